// expect: monitor_ref.*is private within this context
#include <troupe/links.hpp>

// A monitor reference cannot be forged: only monitor() and spawn_monitor()
// give one out.
bool f() { return troupe::demonitor(troupe::monitor_ref(42)); }
