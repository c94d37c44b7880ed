// Throw-point traces: an interposed __cxa_throw (throw_hook.cpp) records the return addresses
// of every throw made inside a process, in a small table keyed by the
// exception object; the object's destructor (which the interposer wraps)
// removes the entry. Symbols are looked up only when asked, with GCC's
// libbacktrace, on one helper thread.
//
// Why these choices (docs/failure.md has the user's side):
//
// - __cxa_throw, not the unwinder's personality or a thread-local "last
//   throw": every throw expression, in user code and inside libstdc++
//   (std::vector::at, std::stoi call __cxa_throw through its PLT), goes
//   through it exactly once, and `throw;` / std::rethrow_exception do not,
//   so a rethrow keeps the original trace. Interposition works because the
//   dynamic linker binds libstdc++'s own references to the first definition
//   in the global scope: the executable (static libtroupe.a; ld exports the
//   definition since libstdc++.so also defines it), or libtroupe.so, which
//   is loaded before libstdc++.so. The real one is found with
//   dlsym(RTLD_NEXT). From static libtroupe.a, throw_hook.o is linked
//   because this file calls into it (link_throw_hook), not because a throw
//   needs __cxa_throw: under AddressSanitizer, libasan.so comes first on the
//   link line and defines __cxa_throw (its interceptor), so a throw alone
//   would never pull the hook out of the archive. The interceptor is then
//   what dlsym(RTLD_NEXT) finds, and it calls the real one.
// - Keyed by the exception object, not by thread: a process can be switched
//   out while it unwinds (a destructor that sleeps) and resume on another
//   scheduler thread; the object is the one thing that stays the same. A
//   nested throw in a handler is another object with its own entry.
// - The entry dies with the object: __cxa_throw is given our destructor,
//   which removes the entry and calls the type's own (libsupc++ calls the
//   destructor whenever it frees a thrown object: after the last catch ends,
//   or when the last exception_ptr goes).
// - libbacktrace, the library behind Boost.Stacktrace's `backtrace` backend,
//   because it reads DWARF: it names static functions and functions in an
//   executable (which export nothing), with file and line, in a
//   RelWithDebInfo build; without debug information it falls back to the
//   ELF symbol tables. Boost's `basic` backend (dladdr) sees exported
//   symbols only, and `addr2line` runs a process per frame. Called directly
//   rather than through boost::stacktrace::frame, because Boost 1.74 folds
//   the functions inlined at an address into the outermost one, with that
//   one's line: a lambda given to spawn (always inlined into the runtime's
//   closure thunk) would show as the thunk, in process.hpp. Debian's
//   libboost_stacktrace_backtrace.a is not PIC (it cannot go into
//   libtroupe.so) and lacks libbacktrace anyway; the .so would make users
//   mix static and shared Boost variants.
// - Symbolization on a helper thread: libbacktrace reads the program's debug
//   information on first use, deep in recursion, which a 64 KiB process stack
//   cannot be trusted with; and one thread means one libbacktrace state (with
//   its parsed debug information), used without locks.

#include <dlfcn.h>
#include <unistd.h>
#include <unwind.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <typeinfo>
#include <vector>

#include "cpu_relax.hpp"
#include "crash_report.hpp"
#include "scheduler_loan.hpp"
#include "stack_trace.hpp"
#include "troupe/detail/forced_exit.hpp"
#include "troupe/process.hpp"
#include "troupe/stack_trace.hpp"

// GCC's libbacktrace (libbacktrace.a, linked into troupe): the library
// behind Boost.Stacktrace's `backtrace` backend, called directly.
#include <backtrace.h>

namespace troupe {

namespace {

// ---------------------------------------------------------------- settings

constexpr std::uint32_t max_depth = 256;
constexpr std::uint32_t default_depth = 32;
constexpr std::uint32_t unset = UINT32_MAX;

std::atomic<std::uint32_t> depth_setting{unset};  // 0: off
std::atomic<std::uint32_t> depth_when_on{default_depth};

std::uint32_t depth_from_environment() noexcept {
  std::uint32_t d = default_depth;
  if (const char* e = std::getenv("TROUPE_EXCEPTION_TRACES")) {
    if (std::strcmp(e, "off") == 0 || std::strcmp(e, "false") == 0 || std::strcmp(e, "no") == 0) {
      d = 0;
    } else if (std::strcmp(e, "on") == 0 || std::strcmp(e, "true") == 0 || std::strcmp(e, "yes") == 0) {
      d = default_depth;
    } else {
      char* end = nullptr;
      const unsigned long v = std::strtoul(e, &end, 10);
      if (end != e && *end == '\0') d = v > max_depth ? max_depth : static_cast<std::uint32_t>(v);
    }
  }
  return d;
}

std::uint32_t current_depth() noexcept {
  std::uint32_t d = depth_setting.load(std::memory_order_relaxed);
  if (d != unset) return d;
  const std::uint32_t from_env = depth_from_environment();
  if (from_env) depth_when_on.store(from_env, std::memory_order_relaxed);
  if (depth_setting.compare_exchange_strong(d, from_env, std::memory_order_relaxed)) return from_env;
  return d;  // someone set it meanwhile
}

// ---------------------------------------------------------------- capture

struct collector {
  const void** out;
  std::uint32_t capacity;
  std::uint32_t count;
  std::uintptr_t first;  // the return address frame 0 has: frames above it are ours
  std::uint32_t budget;  // how many of ours may come before it
};

_Unwind_Reason_Code collect_frame(_Unwind_Context* ctx, void* arg) {
  auto* c = static_cast<collector*>(arg);
  int before_insn = 0;
  std::uintptr_t ip = _Unwind_GetIPInfo(ctx, &before_insn);
  if (ip == 0) return _URC_END_OF_STACK;
  if (c->first) {
    if (ip != c->first) return c->budget-- ? _URC_NO_REASON : _URC_END_OF_STACK;
    c->first = 0;
  }
  // A return address points after the call, possibly into the next function
  // (a call to a noreturn function such as __cxa_throw is often a
  // function's last instruction): step back into the call.
  if (!before_insn) --ip;
  c->out[c->count++] = reinterpret_cast<const void*>(ip);
  return c->count == c->capacity ? _URC_END_OF_STACK : _URC_NO_REASON;
}

// Fills `out` with the stack from the frame whose return address is `first`
// (the caller of the function that got it from __builtin_return_address(0)):
// the frames of the runtime itself, above it, are left out, however the
// compiler inlined or tail-called them. Returns how many frames it wrote.
__attribute__((noinline)) std::uint32_t collect(const void** out, std::uint32_t capacity, const void* first) noexcept {
  collector c{out, capacity, 0, reinterpret_cast<std::uintptr_t>(first), 16};
  _Unwind_Backtrace(&collect_frame, &c);
  return c.count;
}

// ---------------------------------------------------------------- the table

using detail::throw_destructor;
std::atomic<detail::cxa_throw_fn> resolved_cxa_throw{nullptr};

struct trace_record {
  trace_record* next;
  void* object;
  throw_destructor destroy;
  std::uint32_t count;
  const void** frames() noexcept { return reinterpret_cast<const void**>(this + 1); }
};
static_assert(sizeof(trace_record) % alignof(const void*) == 0);

struct alignas(64) bucket {
  std::atomic<bool> locked{false};
  trace_record* head = nullptr;
};

constexpr unsigned bucket_bits = 8;
bucket table[1u << bucket_bits];

bucket& bucket_of(const void* object) noexcept {
  std::uint64_t x = reinterpret_cast<std::uintptr_t>(object);
  x ^= x >> 21;
  x *= 0x9E3779B97F4A7C15ull;
  return table[x >> (64 - bucket_bits)];
}

class bucket_lock {
 public:
  explicit bucket_lock(bucket& b) noexcept : b_(b) {
    while (b_.locked.exchange(true, std::memory_order_acquire)) {
      while (b_.locked.load(std::memory_order_relaxed)) detail::cpu_relax();
    }
  }
  ~bucket_lock() { b_.locked.store(false, std::memory_order_release); }
  bucket_lock(const bucket_lock&) = delete;
  bucket_lock& operator=(const bucket_lock&) = delete;

 private:
  bucket& b_;
};

// The destructor __cxa_throw is given for a traced object: forgets the trace,
// then destroys the object as its own destructor would.
void traced_destructor(void* object) {
  trace_record* found = nullptr;
  {
    bucket& b = bucket_of(object);
    bucket_lock lock(b);
    for (trace_record** at = &b.head; *at; at = &(*at)->next) {
      if ((*at)->object == object) {
        found = *at;
        *at = found->next;
        break;
      }
    }
  }
  if (!found) return;  // cannot happen: only recorded objects get this destructor
  const throw_destructor d = found->destroy;
  std::free(found);
  if (d) d(object);
}

}  // namespace

namespace detail {

// Records where `object` is thrown from, in a process with recording on.
// Returns the destructor to give __cxa_throw: traced_destructor, or
// `destroy` unchanged when nothing is recorded.
__attribute__((noinline)) throw_destructor note_throw(void* object, const void* type, throw_destructor destroy,
                                                      const void* thrower_return) noexcept {
  if (!troupe::in_process()) return destroy;
  // An exit (an exit signal, exit/1, shutdown): unwinding it is the runtime's
  // control flow, and walking its stack would cost more than the rest of it.
  if (*static_cast<const std::type_info*>(type) == typeid(forced_exit)) return destroy;
  const std::uint32_t depth = current_depth();
  if (depth == 0) return destroy;
  void* mem = std::malloc(sizeof(trace_record) + depth * sizeof(const void*));
  if (!mem) return destroy;
  auto* r = static_cast<trace_record*>(mem);
  r->object = object;
  r->destroy = destroy;
  r->count = collect(r->frames(), depth, thrower_return);
  bucket& b = bucket_of(object);
  {
    bucket_lock lock(b);
    r->next = b.head;
    b.head = r;
  }
  return &traced_destructor;
}

cxa_throw_fn real_cxa_throw() noexcept {
  cxa_throw_fn f = resolved_cxa_throw.load(std::memory_order_acquire);
  if (f) return f;
  f = reinterpret_cast<cxa_throw_fn>(dlsym(RTLD_NEXT, "__cxa_throw"));
  if (!f) {
    std::fputs("troupe: cannot find the C++ runtime's __cxa_throw (is libstdc++ linked statically?)\n", stderr);
    std::abort();
  }
  resolved_cxa_throw.store(f, std::memory_order_release);
  return f;
}

}  // namespace detail

namespace {

// Resolved before main where possible, so the first throw does not pay for
// it; and the call into throw_hook.o links the hook (see the top).
[[maybe_unused]] const detail::cxa_throw_fn resolved_at_load = (detail::link_throw_hook(), detail::real_cxa_throw());

// The record of a live object, or nullptr. The record lives as long as the
// object, which the caller keeps alive.
trace_record* find_record(const void* object) noexcept {
  bucket& b = bucket_of(object);
  bucket_lock lock(b);
  for (trace_record* r = b.head; r; r = r->next) {
    if (r->object == object) return r;
  }
  return nullptr;
}

// ---------------------------------------------------------------- symbolizing

// libbacktrace, on the symbolizer thread only (so one state, unlocked).
backtrace_state* lookup_state() noexcept {
  static backtrace_state* const state =
      backtrace_create_state(nullptr, /*threaded=*/0, [](void*, const char*, int) {}, nullptr);
  return state;
}

struct pc_lookup {
  const void* address;
  std::vector<stack_frame>* out;
  bool failed = false;
};

// One call per function at the address, innermost (inlined) first.
int on_pcinfo(void* data, std::uintptr_t, const char* file, int line, const char* function) {
  auto* l = static_cast<pc_lookup*>(data);
  if (!function && !file) return 0;
  try {
    stack_frame f;
    f.address = l->address;
    if (function) f.function = detail::demangle(function);
    if (file) f.file = file;
    f.line = line > 0 ? static_cast<unsigned>(line) : 0;
    l->out->push_back(std::move(f));
  } catch (...) {
    l->failed = true;
    return 1;  // stop
  }
  return 0;
}

void on_syminfo(void* data, std::uintptr_t, const char* symbol, std::uintptr_t, std::uintptr_t) {
  if (symbol) *static_cast<const char**>(data) = symbol;
}

// `f(int) [clone .isra.0]` -> `f(int)`: the optimizer's copies are the function.
std::string without_clone_suffix(std::string name) {
  const std::size_t at = name.find(" [clone ");
  if (at != std::string::npos) name.erase(at);
  return name;
}

// The frames at one address: the function holding it, after the functions
// inlined into it there (each marked `inlined`), innermost first.
void symbolize_one(const void* address, std::vector<stack_frame>& out) {
  const std::size_t start = out.size();
  const auto pc = reinterpret_cast<std::uintptr_t>(address);
  backtrace_state* const st = lookup_state();
  if (st) {
    pc_lookup l{address, &out};
    backtrace_pcinfo(st, pc, &on_pcinfo, [](void*, const char*, int) {}, &l);
    if (l.failed) throw std::bad_alloc();
  }
  if (out.size() == start) {
    stack_frame f;
    f.address = address;
    out.push_back(std::move(f));
  }
  // The function itself: its symbol says it best (debug information names a
  // static function or a lambda without its scope and parameters). Without
  // one, .dynsym through dladdr.
  const char* symbol = nullptr;
  if (st) backtrace_syminfo(st, pc, &on_syminfo, [](void*, const char*, int) {}, &symbol);
  Dl_info info{};
  const bool in_module = dladdr(address, &info) != 0;
  if (!symbol && in_module && info.dli_sname) symbol = info.dli_sname;
  if (symbol) out.back().function = without_clone_suffix(detail::demangle(symbol));
  const std::string module = in_module && info.dli_fname ? info.dli_fname : "";
  const std::uintptr_t offset = in_module ? pc - reinterpret_cast<std::uintptr_t>(info.dli_fbase) : 0;
  for (std::size_t i = start; i < out.size(); ++i) {
    out[i].module = module;
    out[i].module_offset = offset;
    out[i].inlined = i + 1 < out.size();
  }
}

// What the readable view leaves out.
bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// std::invoke and std::apply, inlined: forwarding, nothing to read.
bool is_call_glue(const stack_frame& f) {
  if (!f.inlined) return false;
  return ends_with(f.file, "/bits/invoke.h") || ends_with(f.file, "/functional") || ends_with(f.file, "/tuple") ||
         ends_with(f.file, "/bits/std_function.h");
}

// The runtime's frames under the process's own function: the spawn
// closure, run_body, process_entry, Boost.Context's make_fcontext.
bool is_runtime_base(const stack_frame& f) {
  if (f.file.find("/troupe/") != std::string::npos && ends_with(f.file, ".hpp")) return true;  // spawn's glue
  static const std::string_view src = [] {
    std::string_view here = __FILE__;  // .../src/failure/stack_trace.cpp
    return here.substr(0, here.rfind('/') + 1);
  }();
  if (f.file.compare(0, src.size(), src) == 0) return true;
  return f.file.empty() && (f.function.find("make_fcontext") != std::string::npos ||
                            f.function.find("ontop_fcontext") != std::string::npos ||
                            f.function.find("jump_fcontext") != std::string::npos);
}

std::vector<stack_frame> readable(std::vector<stack_frame> all) {
  std::size_t end = all.size();
  while (end > 0 && (is_runtime_base(all[end - 1]) || is_call_glue(all[end - 1]))) --end;
  if (end == 0) end = all.size();  // all of it is the runtime's: show it
  std::vector<stack_frame> out;
  out.reserve(end);
  for (std::size_t i = 0; i < end; ++i) {
    if (!is_call_glue(all[i])) out.push_back(std::move(all[i]));
  }
  return out;
}

// Stack-light fallback: addresses and modules only.
std::vector<stack_frame> unsymbolized(const std::vector<const void*>& addresses) {
  std::vector<stack_frame> out;
  out.reserve(addresses.size());
  for (const void* a : addresses) {
    stack_frame f;
    f.address = a;
    Dl_info info{};
    if (dladdr(a, &info)) {
      if (info.dli_fname) f.module = info.dli_fname;
      f.module_offset = reinterpret_cast<std::uintptr_t>(a) - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    }
    out.push_back(std::move(f));
  }
  return out;
}

// One thread does every lookup (see the top of the file). Leaked on purpose:
// it must outlive static destruction (a crash report can be written then).
class symbolizer {
 public:
  static symbolizer* get() {
    static std::mutex* const made_mu = new std::mutex;
    static symbolizer* current = nullptr;
    std::lock_guard lock(*made_mu);
    if (!current || current->owner_ != ::getpid()) {  // none yet, or we are a fork's child
      current = new symbolizer();
    }
    return current;
  }

  std::vector<stack_frame> run(const std::vector<const void*>& addresses) {
    detail::scheduler_loan waiting;  // the first lookup reads the debug information: many milliseconds
    std::lock_guard one_at_a_time(call_mu_);
    std::unique_lock lock(mu_);
    request_ = &addresses;
    result_.clear();
    failed_ = false;
    done_ = false;
    cv_.notify_all();
    cv_.wait(lock, [this] { return done_; });
    request_ = nullptr;
    if (failed_) return unsymbolized(addresses);
    return std::move(result_);
  }

 private:
  symbolizer() : owner_(::getpid()) {
    std::thread([this] { loop(); }).detach();
  }

  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return request_ != nullptr && !done_; });
      const std::vector<const void*>& addresses = *request_;
      lock.unlock();
      std::vector<stack_frame> out;
      bool failed = false;
      try {
        out.reserve(addresses.size());
        for (const void* a : addresses) symbolize_one(a, out);
      } catch (...) {
        failed = true;
      }
      lock.lock();
      result_ = std::move(out);
      failed_ = failed;
      done_ = true;
      cv_.notify_all();
    }
  }

  const pid_t owner_;
  std::mutex call_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::vector<const void*>* request_ = nullptr;
  std::vector<stack_frame> result_;
  bool failed_ = false;
  bool done_ = false;
};

}  // namespace

// ---------------------------------------------------------------- public API

void set_exception_traces(bool on) noexcept {
  (void)current_depth();  // the environment's say comes first, ours last
  depth_setting.store(on ? depth_when_on.load(std::memory_order_relaxed) : 0, std::memory_order_relaxed);
}

void set_exception_trace_depth(std::size_t frames) noexcept {
  (void)current_depth();
  const auto d = static_cast<std::uint32_t>(frames > max_depth ? max_depth : frames);
  if (d) depth_when_on.store(d, std::memory_order_relaxed);
  depth_setting.store(d, std::memory_order_relaxed);
}

std::size_t exception_trace_depth() noexcept { return current_depth(); }

stack_trace exception_trace(const std::exception_ptr& e) noexcept {
  if (!e) return {};
  // libstdc++'s (and libc++'s) exception_ptr is one pointer: the thrown object.
  static_assert(sizeof(std::exception_ptr) == sizeof(void*));
  void* object = nullptr;
  std::memcpy(&object, static_cast<const void*>(&e), sizeof object);
  trace_record* r = find_record(object);
  if (!r) return {};
  try {
    return stack_trace(std::vector<const void*>(r->frames(), r->frames() + r->count));
  } catch (...) {
    return {};
  }
}

stack_trace current_exception_trace() noexcept { return exception_trace(std::current_exception()); }

__attribute__((noinline)) stack_trace stack_trace::capture(std::size_t depth) {
  const auto d = static_cast<std::uint32_t>(depth > max_depth ? max_depth : depth);
  if (d == 0) return {};
  const void* buf[max_depth];
  const std::uint32_t n = collect(buf, d, __builtin_return_address(0));
  return stack_trace(std::vector<const void*>(buf, buf + n));
}

std::vector<stack_frame> stack_trace::symbolize(frames which) const {
  if (addresses_.empty()) return {};
  std::vector<stack_frame> all;
  try {
    all = symbolizer::get()->run(addresses_);
  } catch (const std::system_error&) {
    all = unsymbolized(addresses_);  // no thread to be had
  }
  if (which == frames::all) return all;
  return readable(std::move(all));
}

std::string stack_trace::to_string(std::string_view indent) const {
  std::string out;
  const std::vector<stack_frame> shown = symbolize();
  for (std::size_t i = 0; i < shown.size(); ++i) {
    if (i) out += '\n';
    out += fmt::format("{}#{} {}", indent, i, shown[i]);
  }
  return out;
}

}  // namespace troupe
