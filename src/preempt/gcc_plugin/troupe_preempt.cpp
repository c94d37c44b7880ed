// troupe_preempt: a GCC plugin that puts a safe point (troupe_safe_point(),
// from troupe/preempt_check.h) before every backward jump (a loop's back
// edge) and on the way to every function's calls (see "Where the safe points
// go" below) in the code it compiles. A safe
// point is a load of a thread-local flag and a branch the runtime's watchdog
// makes taken when the process has had its slice; then the process yields as
// at any runtime call. See docs/scheduling.md.
//
// Where: before GCC's "lower" pass, on the structured GIMPLE the front end
// made. There every loop still ends in a goto (or a conditional jump) to a
// label that comes earlier, and the safe point lands inside the same
// try/cleanup nesting as that jump. So when a safe point throws (a killed
// process unwinds), the exception-lowering pass that follows gives it the
// same landing pads as the jump's neighbours, and every destructor in scope
// runs. Later, the check is inlined like any other code: a loop keeps its
// optimisations except those a rarely taken call in it forbids.
//
// Not instrumented: functions from system headers (the standard library),
// functions the compiler made (implicit members, sanitizer constructors),
// functions marked no_instrument_function, and files under the prefixes
// given as -fplugin-arg-troupe_preempt-exclude=DIR (troupe's own headers).
// A noexcept function gets troupe_safe_point_nothrow(), which yields but
// leaves an exit signal for a later runtime call. Every other instrumented
// function may now throw, whatever the front end concluded from its body.
//
//   -fplugin=troupe_preempt.so -include troupe/preempt_check.h
//   -fplugin-arg-troupe_preempt-exclude=/usr/include/troupe
//   -fplugin-arg-troupe_preempt-leaf-loops (safe points in leaf loops too: see back_edge)
//   -fplugin-arg-troupe_preempt-verbose    (a note per instrumented function)

#include "gcc-plugin.h"
#include "plugin-version.h"

#include "tree.h"
#include "cp/cp-tree.h"  // before diagnostic-core.h, which it extends
#include "tree-pass.h"
#include "context.h"
#include "function.h"
#include "basic-block.h"
#include "gimple.h"
#include "gimple-iterator.h"
#include "diagnostic-core.h"
#include "hash-map.h"
#include "hash-set.h"
#include "stringpool.h"
#include "attribs.h"

int plugin_is_GPL_compatible;  // GCC loads only plugins that say so; Apache-2.0 is

namespace {

tree check_fn = NULL_TREE;          // troupe_safe_point
tree check_nothrow_fn = NULL_TREE;  // troupe_safe_point_nothrow
auto_vec<const char*> excluded_prefixes;
bool verbose = false;
bool check_leaf_loops = false;  // -fplugin-arg-troupe_preempt-leaf-loops
bool reported_missing_header = false;

bool excluded(tree fn);

// Declared noexcept (or a destructor, implicitly so): its safe points must
// not throw, since an exception leaving it would end the program.
bool declared_noexcept(tree fn) {
  tree spec = TYPE_RAISES_EXCEPTIONS(TREE_TYPE(fn));
  if (!spec) return false;
  if (DEFERRED_NOEXCEPT_SPEC_P(spec) || UNEVALUATED_NOEXCEPT_SPEC_P(spec)) return true;
  return nothrow_spec_p(spec);
}

bool gets_throwing_checks(tree fn) { return flag_exceptions && !declared_noexcept(fn); }

// Runs as the front end finishes each function body, just after it decided
// whether the function can throw. One that gets safe points that may throw
// can: saying so now, before the functions that call it are finished, gives
// their calls to it the landing pads an unwinding exception needs.
void on_function_finished(void* gcc_data, void*) {
  tree fn = static_cast<tree>(gcc_data);
  if (!fn || TREE_CODE(fn) != FUNCTION_DECL || !DECL_NAME(fn)) return;
  const char* name = IDENTIFIER_POINTER(DECL_NAME(fn));
  if (std::strcmp(name, "troupe_safe_point") == 0) check_fn = fn;
  if (std::strcmp(name, "troupe_safe_point_nothrow") == 0) check_nothrow_fn = fn;
  if (!excluded(fn) && gets_throwing_checks(fn)) TREE_NOTHROW(fn) = 0;
}

bool excluded(tree fn) {
  if (fn == check_fn || fn == check_nothrow_fn) return true;
  // What the compiler made, not the user: implicit members, and the module
  // constructors and destructors the sanitizers add after parsing (inlining
  // a check into those crashes GCC 12's early inliner).
  if (DECL_STATIC_CONSTRUCTOR(fn) || DECL_STATIC_DESTRUCTOR(fn)) return true;
  if (DECL_ARTIFICIAL(fn) && !(DECL_LANG_SPECIFIC(fn) && LAMBDA_FUNCTION_P(fn))) return true;
  // The attribute itself: GCC sets DECL_NO_INSTRUMENT_FUNCTION_ENTRY_EXIT
  // on every function when -finstrument-functions is off.
  if (lookup_attribute("no_instrument_function", DECL_ATTRIBUTES(fn))) return true;
  const location_t where = DECL_SOURCE_LOCATION(fn);
  if (in_system_header_at(where)) return true;
  const char* file = LOCATION_FILE(where);
  if (!file) return false;
  for (const char* prefix : excluded_prefixes) {
    if (std::strncmp(file, prefix, std::strlen(prefix)) == 0) return true;
  }
  return false;
}

// Where the safe points go. Every cycle a process can run round must pass
// one: a loop's, at its header; a recursion's, in each function on it before
// it calls on. So a function that calls gets its check on the way to its
// first call, not at its entry: a path that returns without calling (fib's
// base case, an early return) passes none, and a loop with calls in it has
// its back edge's check and one on the way in. A function that calls nothing keeps
// its check at the entry, for it may be the callback of a loop in code that
// is not instrumented (std::sort's comparator). Where that would put more
// than one check on the way to the calls (a call on one branch of an if and
// another after it), the function gets the entry check instead, which is
// never more checks on a path than before.
class instrumenter {
 public:
  explicit instrumenter(tree check, tree other_check) : check_(check), other_check_(other_check) {}

  // The body of a function at this stage is one GIMPLE_BIND (or a
  // GIMPLE_TRY around one, for a noexcept function), which "lower" insists
  // on: an entry's safe point goes first inside it.
  void function_body(gimple_seq& body) {
    gimple* outer = gimple_seq_first_stmt(body);
    if (!outer) return;
    gimple_seq* inner = nullptr;
    if (gbind* b = dyn_cast<gbind*>(outer)) inner = gimple_bind_body_ptr(b);
    if (!inner && gimple_code(outer) == GIMPLE_TRY) inner = gimple_try_eval_ptr(outer);
    if (!inner) return;

    find_loops(body);
    bool at_entry = calls_ == 0 || unsure_;
    if (!at_entry) {
      placing_ = false;
      (void)place_seq(body, false);
      at_entry = call_checks_ > 1;
    }
    placing_ = true;
    labels_.empty();
    passed_.empty();
    call_checks_ = 0;
    if (at_entry) {
      gimple_stmt_iterator gsi = gsi_start(*inner);
      insert_before(gsi, gimple_location(outer));
    }
    (void)place_seq(body, at_entry);
  }

  [[nodiscard]] int points() const { return points_; }

 private:
  // ---- Loops: which labels are the headers of loops that get a check.

  void find_loops(gimple_seq& seq) {
    for (gimple_stmt_iterator gsi = gsi_start(seq); !gsi_end_p(gsi); gsi_next(&gsi)) {
      gimple* g = gsi_stmt(gsi);
      switch (gimple_code(g)) {
        case GIMPLE_LABEL:
          seen_.put(gimple_label_label(as_a<glabel*>(g)), mark{calls_, back_edges_});
          break;
        case GIMPLE_GOTO: {
          tree dest = gimple_goto_dest(g);
          if (TREE_CODE(dest) == LABEL_DECL) {
            back_edge(g, dest);
          } else {
            unsure_ = true;  // a computed goto: its targets are unknown
          }
          break;
        }
        case GIMPLE_COND: {
          gcond* c = as_a<gcond*>(g);
          if (gimple_cond_true_label(c)) back_edge(g, gimple_cond_true_label(c));
          if (gimple_cond_false_label(c)) back_edge(g, gimple_cond_false_label(c));
          break;
        }
        case GIMPLE_CALL:
          if (!trivial_call(as_a<gcall*>(g))) ++calls_;
          break;
        case GIMPLE_ASM:
          if (gimple_asm_nlabels(as_a<gasm*>(g)) != 0) unsure_ = true;
          ++calls_;
          break;
        default:
          for_each_nested(g, [this](gimple_seq& s) { find_loops(s); });
          break;
      }
    }
  }

  // How far the walk had got when it passed a label.
  struct mark {
    int calls;
    int back_edges;
  };

  // A jump to a label already passed closes a loop. It gets a safe point
  // unless the loop is a leaf kernel: no loop inside it, and no calls
  // but to inline functions of the standard library (a vector's
  // operator[]), which are gone once inlined. A safe point there, a call the
  // compiler cannot see through, would stop it vectorising the loop (a
  // matrix multiply ran 3.3 times slower); the loop around it, or the
  // function's entry, has one instead.
  void back_edge(gimple* jump, tree label) {
    const mark* at = seen_.get(label);
    if (!at) return;
    const bool leaf = at->calls == calls_ && at->back_edges == back_edges_;
    ++back_edges_;
    if (leaf && !check_leaf_loops) return;
    checked_jumps_.add(jump);
    checked_headers_.add(label);
  }

  // ---- Placing: a walk in the order the code is laid out that knows, at
  // each statement, whether every path from the entry to it has passed a
  // safe point ("covered"). A loop's back edge has its check, so its header
  // is covered if the way in is: where the way in is not, a check just
  // before the loop does for the calls in it. What comes after an
  // unconditional jump is reached only through its label.

  bool place_seq(gimple_seq& seq, bool covered) {
    for (gimple_stmt_iterator gsi = gsi_start(seq); !gsi_end_p(gsi); gsi_next(&gsi)) {
      gimple* g = gsi_stmt(gsi);
      switch (gimple_code(g)) {
        case GIMPLE_LABEL: {
          tree label = gimple_label_label(as_a<glabel*>(g));
          const bool* ahead = labels_.get(label);
          const bool jumps_in_covered = !ahead || *ahead;
          if (!covered && jumps_in_covered && checked_headers_.contains(label)) {
            call_check(gsi, g);  // before the loop, on the way in
            covered = true;
          }
          covered = covered && jumps_in_covered && !FORCED_LABEL(label) && !DECL_NONLOCAL(label);
          passed_.add(label);  // from here on, a jump to it is a back edge
          break;
        }
        case GIMPLE_GOTO:
          covered = back_edge_check(gsi, g, covered);
          jump_to(gimple_goto_dest(g), covered);
          covered = true;  // unreachable until the next label
          break;
        case GIMPLE_COND: {
          gcond* c = as_a<gcond*>(g);
          tree t = gimple_cond_true_label(c);
          tree f = gimple_cond_false_label(c);
          covered = back_edge_check(gsi, g, covered);
          if (t) jump_to(t, covered);
          if (f) jump_to(f, covered);
          if (t && f) covered = true;
          break;
        }
        case GIMPLE_SWITCH: {
          gswitch* sw = as_a<gswitch*>(g);
          for (unsigned i = 0; i < gimple_switch_num_labels(sw); ++i) {
            jump_to(CASE_LABEL(gimple_switch_label(sw, i)), covered);
          }
          covered = true;
          break;
        }
        case GIMPLE_RETURN:
          covered = true;
          break;
        case GIMPLE_CALL: {
          gcall* call = as_a<gcall*>(g);
          tree callee = gimple_call_fndecl(call);
          if (callee == check_ || callee == other_check_ || trivial_call(call)) break;
          if (!covered) call_check(gsi, g);
          // Code after a setjmp runs again from the longjmp.
          covered = (gimple_call_flags(call) & ECF_RETURNS_TWICE) == 0;
          break;
        }
        case GIMPLE_ASM:
          if (!covered) call_check(gsi, g);
          covered = true;
          break;
        case GIMPLE_BIND:
          covered = place_seq(*gimple_bind_body_ptr(as_a<gbind*>(g)), covered);
          break;
        case GIMPLE_TRY: {
          // Covered at the try, covered throughout it: a cleanup or handler
          // starts as the try did, wherever in it the exception came from.
          const bool eval = place_seq(*gimple_try_eval_ptr(g), covered);
          const bool cleanup = place_seq(*gimple_try_cleanup_ptr(g), covered);
          covered = eval && cleanup;
          break;
        }
        default:
          for_each_nested(g, [this, covered](gimple_seq& s) { (void)place_seq(s, covered); });
          break;
      }
    }
    return covered;
  }

  bool back_edge_check(gimple_stmt_iterator& gsi, gimple* jump, bool covered) {
    if (!checked_jumps_.contains(jump)) return covered;
    insert_before(gsi, gimple_location(jump));
    return true;
  }

  // A jump ahead: its label is covered only if every jump to it is.
  void jump_to(tree label, bool covered) {
    if (TREE_CODE(label) != LABEL_DECL || passed_.contains(label)) return;
    if (bool* in = labels_.get(label)) {
      *in = *in && covered;
    } else {
      labels_.put(label, covered);
    }
  }

  // Before a call (or loop) that some path reaches without a safe point:
  // counted on the first walk, made on the second.
  void call_check(gimple_stmt_iterator& gsi, gimple* before) {
    ++call_checks_;
    insert_before(gsi, gimple_location(before));
  }

  // The handlers and cleanups nested in a statement other than a bind or try.
  template <class F>
  static void for_each_nested(gimple* g, F&& f) {
    switch (gimple_code(g)) {
      case GIMPLE_BIND:
        f(*gimple_bind_body_ptr(as_a<gbind*>(g)));
        break;
      case GIMPLE_TRY:
        f(*gimple_try_eval_ptr(g));
        f(*gimple_try_cleanup_ptr(g));
        break;
      case GIMPLE_CATCH:
        f(*gimple_catch_handler_ptr(as_a<gcatch*>(g)));
        break;
      case GIMPLE_EH_FILTER:
        f(*gimple_eh_filter_failure_ptr(g));
        break;
      case GIMPLE_EH_ELSE: {
        geh_else* e = as_a<geh_else*>(g);
        f(*gimple_eh_else_n_body_ptr(e));
        f(*gimple_eh_else_e_body_ptr(e));
        break;
      }
      default:
        break;
    }
  }

  // Atomics stay calls: a loop that waits on one is a spin-wait, which no
  // compiler vectorises and which must stay preemptible.
  static bool trivial_call(gcall* call) {
    tree callee = gimple_call_fndecl(call);
    if (!callee) return false;  // through a pointer: anything
    const char* mangled = IDENTIFIER_POINTER(DECL_ASSEMBLER_NAME(callee));
    if (std::strstr(mangled, "atomic") || std::strstr(mangled, "__sync_")) return false;
    if (fndecl_built_in_p(callee)) return true;
    return DECL_DECLARED_INLINE_P(callee) && in_system_header_at(DECL_SOURCE_LOCATION(callee));
  }

  void insert_before(gimple_stmt_iterator& gsi, location_t where) {
    if (!placing_) return;
    gcall* call = gimple_build_call(check_, 0);
    gimple_set_location(call, where);
    gsi_insert_before(&gsi, call, GSI_SAME_STMT);
    ++points_;
  }

  tree check_;
  tree other_check_;
  hash_map<tree, mark> seen_;
  hash_set<gimple*> checked_jumps_;  // back edges that get a check
  hash_set<tree> checked_headers_;   // their labels
  hash_set<tree> passed_;            // labels the placing walk has passed
  hash_map<tree, bool> labels_;      // labels jumped to ahead: covered on every such jump
  int calls_ = 0;
  int back_edges_ = 0;
  bool unsure_ = false;   // control flow the placing cannot follow: check at the entry
  bool placing_ = true;   // false on the first walk, which only counts
  int call_checks_ = 0;
  int points_ = 0;
};

const pass_data safe_point_pass_data = {
    GIMPLE_PASS,
    "troupe_safe_points",
    OPTGROUP_NONE,
    TV_NONE,
    PROP_gimple_any,  // properties_required
    0,                // properties_provided
    0,                // properties_destroyed
    0,                // todo_flags_start
    0,                // todo_flags_finish
};

class safe_point_pass : public gimple_opt_pass {
 public:
  explicit safe_point_pass(gcc::context* ctx) : gimple_opt_pass(safe_point_pass_data, ctx) {}
  opt_pass* clone() final { return new safe_point_pass(m_ctxt); }

  unsigned int execute(function* fun) final {
    tree fn = fun->decl;
    if (excluded(fn)) return 0;
    if (!check_fn || !check_nothrow_fn) {
      if (!reported_missing_header) {
        error("troupe_preempt: troupe_safe_point is not declared; compile with -include troupe/preempt_check.h");
        reported_missing_header = true;
      }
      return 0;
    }
    const bool throwing = gets_throwing_checks(fn);
    instrumenter in(throwing ? check_fn : check_nothrow_fn, throwing ? check_nothrow_fn : check_fn);
    in.function_body(fun->gimple_body);
    if (verbose) inform(DECL_SOURCE_LOCATION(fn), "troupe_preempt: %d safe points in %qD", in.points(), fn);
    return 0;
  }
};

}  // namespace

int plugin_init(struct plugin_name_args* info, struct plugin_gcc_version* version) {
  if (!plugin_default_version_check(version, &gcc_version)) {
    error("troupe_preempt: this plugin was built for GCC %s", gcc_version.basever);
    return 1;
  }
  for (int i = 0; i < info->argc; ++i) {
    const plugin_argument& arg = info->argv[i];
    if (std::strcmp(arg.key, "exclude") == 0 && arg.value) {
      excluded_prefixes.safe_push(xstrdup(arg.value));
    } else if (std::strcmp(arg.key, "verbose") == 0) {
      verbose = true;
    } else if (std::strcmp(arg.key, "leaf-loops") == 0) {
      check_leaf_loops = true;
    } else {
      error("troupe_preempt: unknown argument %qs (known: exclude=DIR, leaf-loops, verbose)", arg.key);
      return 1;
    }
  }
  static plugin_info about = {"0.1", "safe points for troupe's preemption (see docs/scheduling.md)"};
  register_callback(info->base_name, PLUGIN_INFO, nullptr, &about);
  register_callback(info->base_name, PLUGIN_PRE_GENERICIZE, on_function_finished, nullptr);

  register_pass_info pass;
  pass.pass = new safe_point_pass(g);
  pass.reference_pass_name = "lower";
  pass.ref_pass_instance_number = 1;
  pass.pos_op = PASS_POS_INSERT_BEFORE;
  register_callback(info->base_name, PLUGIN_PASS_MANAGER_SETUP, nullptr, &pass);
  return 0;
}
