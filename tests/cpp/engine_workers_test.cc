// engine/workers.h: Workers::Claims gives every row of a share to exactly one thread, each
// thread's rows one range claimed in order in its direction, for any team size, row count and
// unit, share after share and run after run; and a thread slowed down takes fewer rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/workers.h"

namespace mnv2 {
namespace {

using engine::Workers;

struct Taken {
  std::vector<std::pair<int, int>> claims;
  bool down = true;
  int first = 0, last = 0;
};

// Thread t's claims of one share of n rows in units of `unit`; work(t, rows) runs per claim.
template <class Work>
Taken Claim(Workers& workers, int n, int unit, int t, Work&& work) {
  Workers::Claims claims(workers, n, unit, t);
  Taken taken;
  taken.down = claims.down();
  int begin, end;
  while (claims.Next(&begin, &end)) {
    taken.claims.emplace_back(begin, end);
    work(t, end - begin);
  }
  taken.first = claims.first();
  taken.last = claims.last();
  return taken;
}

// The claims of one share, thread by thread: every row once, each thread's rows one range
// claimed in its direction, first() and last() that range.
void CheckShare(const std::vector<Taken>& threads, int n, int unit) {
  SCOPED_TRACE(std::to_string(threads.size()) + " threads, " + std::to_string(n) + " rows, unit " +
               std::to_string(unit));
  std::vector<int> owner(n, -1);
  for (size_t t = 0; t < threads.size(); ++t) {
    const Taken& taken = threads[t];
    int first = taken.first, last = taken.first;  // the range so far
    if (!taken.claims.empty()) first = last = taken.down ? taken.claims[0].first : taken.claims[0].second;
    for (const std::pair<int, int>& c : taken.claims) {
      ASSERT_LT(c.first, c.second);
      ASSERT_GE(c.first, 0);
      ASSERT_LE(c.second, n);
      if (taken.down) {
        EXPECT_EQ(c.first, last) << "thread " << t;
        last = c.second;
      } else {
        EXPECT_EQ(c.second, first) << "thread " << t;
        first = c.first;
      }
      for (int row = c.first; row < c.second; ++row) {
        EXPECT_EQ(owner[row], -1) << "row " << row << " claimed twice";
        owner[row] = static_cast<int>(t);
      }
    }
    EXPECT_EQ(taken.first, first) << "thread " << t;
    EXPECT_EQ(taken.last, last) << "thread " << t;
  }
  for (int row = 0; row < n; ++row) ASSERT_NE(owner[row], -1) << "row " << row << " not claimed";
}

TEST(Claims, EveryRowOnceShareAfterShareRunAfterRun) {
  const std::vector<std::pair<int, int>> shares = {{0, 1},  {1, 1},  {3, 1},  {7, 7},    {14, 4},  {28, 2},
                                                   {56, 1}, {112, 1}, {57, 3}, {1000, 1}, {999, 7}, {70000, 1}};
  for (int size = 1; size <= Workers::kMaxThreads; ++size) {
    Workers workers(size);
    for (int run = 0; run < 3; ++run) {
      const int k = workers.running();
      std::vector<std::vector<Taken>> taken(shares.size(), std::vector<Taken>(k));
      workers.Run([&](int t) {
        for (size_t i = 0; i < shares.size(); ++i) {
          taken[i][t] = Claim(workers, shares[i].first, shares[i].second, t, [](int, int) {});
          workers.Sync();
        }
      });
      for (size_t i = 0; i < shares.size(); ++i) {
        CheckShare(taken[i], shares[i].first, shares[i].second);
        if (HasFatalFailure()) return;
        // Fewer than two units per thread: the rows split as Share splits them.
        if (shares[i].first < 2 * k * shares[i].second) {
          for (int t = 0; t < k; ++t) {
            const int begin = static_cast<int>(static_cast<long long>(shares[i].first) * t / k);
            EXPECT_EQ(taken[i][t].first, begin);
            EXPECT_EQ(taken[i][t].last, static_cast<int>(static_cast<long long>(shares[i].first) * (t + 1) / k));
          }
        }
      }
    }
  }
}

TEST(Claims, ASlowThreadTakesFewerRows) {
  Workers workers(2);
  if (workers.running() < 2) GTEST_SKIP() << "no threads";
  // Thread 1 takes 200 microseconds a row, thread 0 20: even shares would give each 200 rows.
  const int n = 400;
  std::vector<Taken> taken(2);
  workers.Run([&](int t) {
    taken[t] = Claim(workers, n, 1, t, [](int t, int rows) {
      std::this_thread::sleep_for(std::chrono::microseconds((t == 1 ? 200 : 20) * rows));
    });
  });
  CheckShare(taken, n, 1);
  EXPECT_TRUE(taken[0].down);
  EXPECT_FALSE(taken[1].down);
  // Thread 1's first claim is a quarter of the rows left when it claims (at most 100), and
  // thread 0 is done with the rest before thread 1 is with that.
  EXPECT_GE(taken[0].last - taken[0].first, 280);
}

}  // namespace
}  // namespace mnv2
