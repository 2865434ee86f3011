// A fixed team of threads for one engine: Run(job) calls job(t) once for every t in
// [0, size()), t = 0 on the calling thread, and returns when all have finished. Inside a
// job, Sync() is a barrier across the team (the engine runs a network block by block,
// each thread taking a share of every block's rows).
//
// Started once when the engine is planned, so an inference creates no thread. In a
// WebAssembly module built without threads (MNV2_SINGLE_THREADED) the team is the
// calling thread alone.
#ifndef MNV2_ENGINE_WORKERS_H_
#define MNV2_ENGINE_WORKERS_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/thread_local.h"

namespace mnv2 {
namespace engine {

class Workers {
 public:
  // At most kMaxThreads; fewer when the platform has no threads.
  static constexpr int kMaxThreads = 8;
  static int Clamp(int threads);

  explicit Workers(int threads);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  int size() const { return size_; }
  // Thread t's share of n rows: [*begin, *end), the rows split evenly in order.
  void Share(int n, int t, int* begin, int* end) const {
    *begin = static_cast<int>(static_cast<long long>(n) * t / size_);
    *end = static_cast<int>(static_cast<long long>(n) * (t + 1) / size_);
  }
  void Run(const std::function<void(int)>& job);
  // Within a job: returns once every thread of the team has called it.
  void Sync();

 private:
  void Loop(int t);

  int size_ = 1;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable start_, done_, synced_;
  const std::function<void(int)>* job_ = nullptr;
  unsigned generation_ = 0;  // incremented per Run (guarded by mutex_)
  int pending_ = 0;          // workers still in the current job (guarded by mutex_)
  bool stop_ = false;
  // The barrier: threads arrived in this round, and the round number (changed under mutex_).
  static constexpr int kSpins = 20000;
  std::atomic<int> arrived_{0};
  std::atomic<unsigned> round_{0};
};

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_WORKERS_H_
