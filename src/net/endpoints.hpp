#pragma once
// Between troupe::net::endpoint (text) and Asio's endpoints.

#include <boost/asio/ip/tcp.hpp>

#include "troupe/net/tcp.hpp"

namespace troupe::net::detail {

/// std::errc::invalid_argument (in `call`) for an address that is not an
/// IPv4 or IPv6 literal.
boost::asio::ip::tcp::endpoint to_asio(const endpoint& e, const char* call);
endpoint from_asio(const boost::asio::ip::tcp::endpoint& e);

}  // namespace troupe::net::detail
