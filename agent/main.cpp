#include "agent/app/agent_cli.hpp"

int main(int argc, char** argv) { return derpmgr::agent::run_cli(argc, argv); }
