// process_heap.cpp: data that belongs to a process lives on its own heap.
#include <troupe/troupe.hpp>

#include <cstddef>
#include <memory_resource>
#include <string>
#include <vector>

#include <fmt/format.h>

struct report {
  std::size_t words;
  std::size_t heap_bytes_while_working;
  std::size_t heap_bytes_after_clear;
  std::string longest;  // std::string, not std::pmr::string: see below
};

void indexer(troupe::pid reply_to, int n) {
  // Everything allocated through troupe::heap() is counted by heap_bytes()
  // and freed when the process exits, even if nobody deallocates it.
  std::pmr::vector<std::pmr::string> words(troupe::heap());
  for (int i = 0; i < n; ++i) {
    words.emplace_back(fmt::format("word-number-{:06}-{}", i, std::string(i % 7, 'x')));
    // Building the table never calls send or receive, which are what count
    // reductions on their own; charging one per step keeps this loop
    // preemptible, so it cannot hog its scheduler.
    troupe::consume_reductions();
  }

  const std::pmr::string* longest = &words.front();
  for (const auto& w : words)
    if (w.size() > longest->size()) longest = &w;

  report r{words.size(), troupe::heap_bytes(), 0, std::string(*longest)};
  words.clear();
  words.shrink_to_fit();
  r.heap_bytes_after_clear = troupe::heap_bytes();

  // Messages must not point into this heap: it disappears with the process.
  // So the reply carries plain std::string, copied out of the heap.
  troupe::send(reply_to, std::move(r));
}

int main() {
  troupe::runtime rt;
  report r = rt.run([] {
    fmt::print("heap_bytes() before any use: {}\n", troupe::heap_bytes());
    troupe::spawn(indexer, troupe::self(), 50'000);
    return troupe::receive<report>();
  });

  fmt::print("indexer: {} words, {} KiB on its heap while working, {} bytes after clear()\n", r.words,
             r.heap_bytes_while_working / 1024, r.heap_bytes_after_clear);
  fmt::print("longest word: {}\n", r.longest);
  return r.words == 50'000 && r.heap_bytes_while_working > 0 && r.heap_bytes_after_clear == 0 ? 0 : 1;
}
