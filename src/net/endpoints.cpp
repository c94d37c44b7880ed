#include "endpoints.hpp"

#include <string>

namespace troupe::net::detail {

boost::asio::ip::tcp::endpoint to_asio(const endpoint& e, const char* call) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(e.address, ec);
  if (ec) {
    throw net_error(std::make_error_code(std::errc::invalid_argument),
                    std::string(call) + ": not an IP address: \"" + e.address + "\"");
  }
  return {address, e.port};
}

endpoint from_asio(const boost::asio::ip::tcp::endpoint& e) { return {e.address().to_string(), e.port()}; }

}  // namespace troupe::net::detail
