#include "exception_reason.hpp"

#include <cxxabi.h>

#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#include "crash_report.hpp"
#include "troupe/links.hpp"
#include "troupe/stack_trace.hpp"

namespace troupe::detail {

namespace {

std::string type_name(const std::type_info* t) {
  if (!t) return "(unknown type)";
  // The names people write, not the demangler's.
  if (*t == typeid(std::string)) return "std::string";
  if (*t == typeid(std::string_view)) return "std::string_view";
  if (*t == typeid(const char*)) return "const char*";
  if (*t == typeid(char*)) return "char*";
  return demangle(t->name());
}

}  // namespace

exit_reason reason_from_current_exception() noexcept {
  try {
    const std::exception_ptr e = std::current_exception();
    if (!e) return exit_reason::exception("(no exception)", "");
    std::string type = type_name(abi::__cxa_current_exception_type());
    std::string what;
    // Rethrowing the exception_ptr does not go through __cxa_throw: it
    // records no trace of its own.
    try {
      std::rethrow_exception(e);
    } catch (const process_error& pe) {
      return pe.reason();
    } catch (const std::exception& x) {
      type = demangle(typeid(x).name());
      what = x.what();
    } catch (const std::string& s) {
      what = s;
    } catch (std::string_view s) {
      what = s;
    } catch (const char* s) {
      if (s) what = s;
    } catch (...) {
    }
    return exit_reason::exception(std::move(type), std::move(what), exception_trace(e));
  } catch (...) {
    return exit_reason(exit_kind::exception);  // out of memory
  }
}

}  // namespace troupe::detail
