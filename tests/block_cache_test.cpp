// The scheduler threads' cache of small freed blocks (troupe/detail/alloc.hpp):
// a block only ever serves requests its size class covers, over-aligned
// requests bypass it, it holds a bounded number of blocks, and flushing gives
// them all back to mimalloc. Under AddressSanitizer the cache is compiled out
// (every block goes to the C allocator).

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include <troupe/detail/alloc.hpp>

#ifndef TROUPE_ALLOC_VIA_LIBC

namespace {

using troupe::detail::allocate_raw;
using troupe::detail::block_cache;
using troupe::detail::free_raw;

// Installs a cache on the test thread for the test's duration.
class BlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { troupe::detail::tls_block_cache = &cache_; }
  void TearDown() override {
    troupe::detail::tls_block_cache = nullptr;
    troupe::detail::flush_block_cache(cache_);
  }
  block_cache cache_{};
};

TEST_F(BlockCacheTest, AFreedBlockServesTheNextRequestOfItsClass) {
  void* a = allocate_raw(40);
  free_raw(a, 40, 8);
  EXPECT_EQ(cache_.count[block_cache::class_of(40)], 1u);
  EXPECT_EQ(allocate_raw(64), a) << "40 and 64 bytes share a class";
  free_raw(a, 64, 8);
}

TEST_F(BlockCacheTest, ABlockOfTheSmallClassNeverServesALargerRequest) {
  void* small = allocate_raw(24);
  free_raw(small, 24, 8);
  void* large = allocate_raw(48);
  EXPECT_NE(large, small);
  std::memset(large, 0xab, 48);  // the whole block is ours
  free_raw(large, 48, 8);
  EXPECT_EQ(allocate_raw(32), small);
  free_raw(small, 32, 8);
}

TEST_F(BlockCacheTest, OverAlignedRequestsBypassIt) {
  void* a = allocate_raw(32);
  free_raw(a, 32, 8);
  void* aligned = allocate_raw(32, 64);
  EXPECT_NE(aligned, a);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % 64, 0u);
  free_raw(aligned, 32, 64);
  EXPECT_EQ(cache_.count[0], 1u) << "the aligned block went back to mimalloc";
}

TEST_F(BlockCacheTest, ItHoldsABoundedNumberAndFlushesThemAll) {
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < 3 * block_cache::per_class; ++i) blocks.push_back(allocate_raw(16));
  EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()).size(), blocks.size());
  for (void* b : blocks) free_raw(b, 16, 8);
  EXPECT_EQ(cache_.count[0], block_cache::per_class);
  troupe::detail::flush_block_cache(cache_);
  EXPECT_EQ(cache_.count[0], 0u);
}

}  // namespace

#endif  // TROUPE_ALLOC_VIA_LIBC
