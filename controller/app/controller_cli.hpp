#pragma once

namespace derpmgr::controller {

// `derpmgr-controller serve | migrate | version`: exit 0 on success, else a one-line reason on stderr.
int run_cli(int argc, char** argv);

}  // namespace derpmgr::controller
