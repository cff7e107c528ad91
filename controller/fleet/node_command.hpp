#pragma once

#include <string>

namespace derpmgr::controller {
class controller_app;
}

namespace derpmgr::controller::fleet {

// `derpmgr-controller node create`: what the console's "add node" does, for scripts and first setup. Prints the
// node id, the one-time enrollment token and the install command; returns the exit status.
int node_create_command(controller_app& app, const std::string& name, const std::string& region,
                        const std::string& public_ip, const std::string& dns_name, const std::string& ports,
                        int capacity);

}  // namespace derpmgr::controller::fleet
