#include "engine/workers.h"

#include <algorithm>

namespace mnv2 {
namespace engine {

int Workers::Clamp(int threads) {
#if MNV2_SINGLE_THREADED
  (void)threads;
  return 1;
#else
  return std::max(1, std::min(threads, kMaxThreads));
#endif
}

Workers::Workers(int threads) : size_(Clamp(threads)) {
#if !MNV2_SINGLE_THREADED
  for (int t = 1; t < size_; ++t) threads_.emplace_back([this, t] { Loop(t); });
#endif
}

Workers::~Workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Workers::Loop(int t) {
  unsigned seen = 0;
  for (;;) {
    const std::function<void(int)>* job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    (*job)(t);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void Workers::Run(const std::function<void(int)>& job) {
  if (size_ == 1) {
    job(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &job;
    pending_ = size_ - 1;
    ++generation_;
  }
  start_.notify_all();
  job(0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
}

void Workers::Sync() {
  if (size_ == 1) return;
  const unsigned round = round_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == size_) {
    arrived_.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      round_.store(round + 1, std::memory_order_release);
    }
    synced_.notify_all();
    return;
  }
  // The others are usually microseconds away: spin a while, then sleep (never yield, which
  // on a busy machine can hand the core to another process for a whole time slice).
  for (int spins = 0; spins < kSpins; ++spins) {
    if (round_.load(std::memory_order_acquire) != round) return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  synced_.wait(lock, [&] { return round_.load(std::memory_order_acquire) != round; });
}

}  // namespace engine
}  // namespace mnv2
