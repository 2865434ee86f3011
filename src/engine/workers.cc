#include "engine/workers.h"

#include <algorithm>

#if defined(__EMSCRIPTEN__) && !MNV2_SINGLE_THREADED
#include <emscripten/threading.h>
#endif

namespace mnv2 {
namespace engine {
namespace {

// Whether the calling thread may wait on a condition variable or join (see workers.h).
bool MaySleep() {
#if defined(__EMSCRIPTEN__) && !MNV2_SINGLE_THREADED
  return !emscripten_is_main_browser_thread();
#else
  return true;
#endif
}

}  // namespace

int Workers::Clamp(int threads) {
#if MNV2_SINGLE_THREADED
  (void)threads;
  return 1;
#else
  return std::max(1, std::min(threads, kMaxThreads));
#endif
}

int Workers::Running(unsigned started, int size) {
  int n = 1;
  while (n < size && (started >> n & 1u)) ++n;
  return n;
}

Workers::Workers(int threads) : size_(Clamp(threads)) {
#if !MNV2_SINGLE_THREADED
  for (int t = 1; t < size_; ++t) {
    std::shared_ptr<Team> team = team_;
    threads_.emplace_back([team, t] { Loop(team, t); });
  }
#if !defined(__EMSCRIPTEN__)
  std::unique_lock<std::mutex> lock(team_->mutex);
  team_->start.wait(lock, [&] { return Running(team_->started.load(), size_) == size_; });
#endif
#endif
}

Workers::~Workers() {
  unsigned started;
  {
    std::lock_guard<std::mutex> lock(team_->mutex);
    team_->stop = true;
    started = team_->started.load();
  }
  team_->start.notify_all();
  // A thread not started yet sees `stop` when it starts (and keeps the team alive until then).
  const bool may_join = MaySleep();
  for (size_t i = 0; i < threads_.size(); ++i) {
    if (may_join && (started >> (i + 1) & 1u)) {
      threads_[i].join();
    } else {
      threads_[i].detach();
    }
  }
}

int Workers::running() const { return Running(team_->started.load(std::memory_order_acquire), size_); }

void Workers::Loop(const std::shared_ptr<Team>& team, int t) {
  std::unique_lock<std::mutex> lock(team->mutex);
  team->started.fetch_or(1u << t, std::memory_order_acq_rel);
  unsigned seen = team->generation;  // jobs begun before this thread started are not its own
  team->start.notify_all();          // the constructor may wait for the team
  for (;;) {
    team->start.wait(lock, [&] { return team->stop || team->generation != seen; });
    if (team->stop) return;
    seen = team->generation;
    if (t >= team->active) continue;
    const std::function<void(int)>* job = team->job;
    team->shares[t] = 0;
    lock.unlock();
    (*job)(t);
    lock.lock();
    if (team->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) team->done.notify_one();
  }
}

void Workers::Run(const std::function<void(int)>& job) {
  Team& team = *team_;
  {
    std::lock_guard<std::mutex> lock(team.mutex);
    team.active = Running(team.started.load(), size_);
    if (team.active > 1) {
      team.job = &job;
      team.pending.store(team.active - 1, std::memory_order_relaxed);
      ++team.generation;
    }
  }
  team.shares[0] = 0;
  if (team.active == 1) {
    job(0);
    return;
  }
  team.start.notify_all();
  job(0);
  if (!MaySleep()) {
    while (team.pending.load(std::memory_order_acquire) != 0) {
    }
  }
  std::unique_lock<std::mutex> lock(team.mutex);
  team.done.wait(lock, [&] { return team.pending.load(std::memory_order_relaxed) == 0; });
  team.job = nullptr;
}

void Workers::Sync() {
  Team& team = *team_;
  const int k = team.active;
  if (k == 1) return;
  const unsigned round = team.round.load(std::memory_order_acquire);
  if (team.arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == k) {
    team.arrived.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(team.mutex);
      team.round.store(round + 1, std::memory_order_release);
    }
    team.synced.notify_all();
    return;
  }
  // The others are usually microseconds away: spin a while, then sleep (never yield, which
  // on a busy machine can hand the core to another process for a whole time slice).
  for (int spins = 0; spins < kSpins; ++spins) {
    if (team.round.load(std::memory_order_acquire) != round) return;
  }
  if (!MaySleep()) {
    while (team.round.load(std::memory_order_acquire) == round) {
    }
    return;
  }
  std::unique_lock<std::mutex> lock(team.mutex);
  team.synced.wait(lock, [&] { return team.round.load(std::memory_order_acquire) != round; });
}

#if !MNV2_SINGLE_THREADED
Workers::Claims::Claims(Workers& workers, int n, int unit, int t) : unit_(std::max(1, unit)) {
  Team& team = *workers.team_;
  const int k = team.active;
  const int share = team.shares[t]++;
  if (k == 1 || n < 2 * k * unit_ || n > 0xFFFF) {
    workers.Share(n, t, &begin_, &end_);
    first_ = last_ = begin_;
    return;
  }
  const int pairs = (k + 1) / 2, pair = t / 2;
  begin_ = static_cast<int>(static_cast<long long>(n) * pair / pairs);
  end_ = static_cast<int>(static_cast<long long>(n) * (pair + 1) / pairs);
  down_ = t % 2 == 0;
  first_ = last_ = down_ ? begin_ : end_;
  if (down_ && t + 1 == k) return;  // no partner
  state_ = &team.claims[pair].rows;
  // Distinct from the tag of the pair's share before this one: the same Run's previous share,
  // or the previous Run's (Run increments the generation whenever threads take part).
  tag_ = (static_cast<uint64_t>(team.generation) << 8 | static_cast<uint8_t>(share)) & 0xFFFFFFFFu;
}

bool Workers::Claims::Next(int* begin, int* end) {
  if (state_ == nullptr) {
    if (begin_ >= end_ || last_ == end_) return false;
    *begin = first_ = begin_;
    *end = last_ = end_;
    return true;
  }
  uint64_t seen = state_->load(std::memory_order_acquire);
  for (;;) {
    int top = begin_, bottom = end_;
    if (seen >> 32 == tag_) {
      top = static_cast<int>(seen >> 16 & 0xFFFF);
      bottom = static_cast<int>(seen & 0xFFFF);
    }
    const int left = bottom - top;
    if (left <= 0) return false;
    const int take = std::min(left, std::max(unit_, left / 4 / unit_ * unit_));
    if (down_) {
      top += take;
    } else {
      bottom -= take;
    }
    const uint64_t next = tag_ << 32 | static_cast<uint64_t>(top) << 16 | static_cast<uint64_t>(bottom);
    if (state_->compare_exchange_weak(seen, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
      if (down_) {
        *begin = top - take;
        *end = last_ = top;
      } else {
        *begin = first_ = bottom;
        *end = bottom + take;
      }
      return true;
    }
  }
}
#endif

}  // namespace engine
}  // namespace mnv2
