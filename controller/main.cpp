#include "controller/app/controller_cli.hpp"

int main(int argc, char** argv) { return derpmgr::controller::run_cli(argc, argv); }
