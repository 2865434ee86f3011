// A fixed team of threads for one engine: Run(job) calls job(t) once for every t in
// [0, running()), t = 0 on the calling thread, and returns when all have finished. Inside a
// job, Sync() is a barrier across those threads, Share() splits rows evenly among them and
// Claims hands rows out as the work goes (the engines run a network block by block, each thread
// claiming a share of every block's rows).
//
// Started once when the engine is planned, so an inference creates no thread. In a
// WebAssembly module built without threads (MNV2_SINGLE_THREADED) the team is the
// calling thread alone. Under Emscripten a thread starts only once its Web Worker has loaded
// the module, which needs the creating thread's event loop (a browser's main thread cannot
// wait for it): until then Run uses the threads started so far (the calling thread at least;
// the results are the same for any count), and the destructor leaves threads not yet started
// to stop on their own. Natively the constructor returns once every thread runs.
//
// A browser's main thread never sleeps here: Emscripten only simulates a wait there by spinning,
// and prints "Blocking on the main thread is very dangerous" into the page's console the first
// time it does. There, Run and Sync wait by spinning themselves (the same work, without the
// warning), and the destructor detaches the threads instead of joining them.
#ifndef MNV2_ENGINE_WORKERS_H_
#define MNV2_ENGINE_WORKERS_H_

#include <stdint.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
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

  // The team as planned (the most threads Run uses).
  int size() const { return size_; }
  // The threads the next Run uses: 1 plus the threads 1, 2, ... started so far (at most size()).
  int running() const;
  // Within a job: thread t's share of n rows, [*begin, *end), the rows split evenly in order.
  void Share(int n, int t, int* begin, int* end) const {
    const int k = team_->active;
    *begin = static_cast<int>(static_cast<long long>(n) * t / k);
    *end = static_cast<int>(static_cast<long long>(n) * (t + 1) / k);
  }
  void Run(const std::function<void(int)>& job);
  // Within a job: returns once every thread of the job has called it.
  void Sync();

  // Within a job: thread t's share of n rows, claimed as the work goes, so that the rows split
  // where the threads' speeds put them (on a machine with other load, a thread can lose its
  // core for a while: with even shares the others then wait at the next Sync).
  //
  // Threads pair up, 2i and 2i + 1 on the i-th of ceil(k / 2) even segments of the rows. In a
  // pair, the even thread claims rows from the segment's top down, the odd one from its bottom
  // up, until they meet; a thread without a partner takes its segment whole. A claim is a
  // quarter of the rows left, in whole units (a band of the caller's), at least one unit. Each
  // thread's rows are one range, claimed in order in its direction. With fewer than two units
  // per thread, or more rows than a claim can hold (65,535), the rows split as Share splits
  // them, one claim each.
  //
  // All threads of the job make the same dynamic shares in the same order, with the same n and
  // unit, and a Sync() separates two of them (a pair's claims share state).
  //
  // (Without threads, one claim of every row: inline, so that the engines' code for claims
  // going up compiles away.)
  class Claims {
   public:
#if MNV2_SINGLE_THREADED
    Claims(Workers&, int n, int, int) : end_(n) {}
    bool Next(int* begin, int* end) {
      if (last_ == end_) return false;
      *begin = 0;
      *end = last_ = end_;
      return true;
    }
    static constexpr bool down() { return true; }
#else
    Claims(Workers& workers, int n, int unit, int t);
    // The next claim, [*begin, *end); false when no row is left.
    bool Next(int* begin, int* end);
    // Whether this thread's claims go down (else up).
    bool down() const { return down_; }
#endif
    // The rows claimed so far, [first(), last()).
    int first() const { return first_; }
    int last() const { return last_; }

   private:
#if !MNV2_SINGLE_THREADED
    std::atomic<uint64_t>* state_ = nullptr;  // the pair's (nullptr: the one claim [begin_, end_))
    uint64_t tag_ = 0;                        // this share's tag in *state_
    int begin_ = 0, unit_ = 1;
    bool down_ = true;
#endif
    int end_ = 0;
    int first_ = 0, last_ = 0;
  };

 private:
  // What the threads share; it outlives the Workers while a thread not yet started holds it.
  struct Team {
    std::mutex mutex;
    std::condition_variable start, done, synced;
    const std::function<void(int)>* job = nullptr;
    unsigned generation = 0;  // incremented per Run (guarded by mutex)
    std::atomic<int> pending{0};  // threads still in the current job (changed under mutex)
    int active = 1;           // threads in the current job (set by Run under mutex)
    bool stop = false;
    std::atomic<unsigned> started{0};  // bit t: thread t has started (set under mutex)
    // The barrier: threads arrived in this round, and the round number (changed under mutex).
    std::atomic<int> arrived{0};
    std::atomic<unsigned> round{0};
    // Claims: each pair's rows left, [top, bottom), with the tag of the share they belong to
    // (tag << 32 | top << 16 | bottom; another tag: the share has not begun), on its own cache
    // line; and each thread's dynamic shares so far in the current job.
    struct alignas(64) ClaimState {
      std::atomic<uint64_t> rows{0};
    };
    ClaimState claims[kMaxThreads / 2];
    int shares[kMaxThreads] = {};
  };
  static void Loop(const std::shared_ptr<Team>& team, int t);
  static int Running(unsigned started, int size);

  // Sync's spins before it sleeps. A/B, MobileNetV2 1.0/224 on 2 threads in Node: with 20,000
  // spins 8.7 ms (int8) and 11.8 ms (float32), with 200,000 7.6 and 11.0 ms, with 1,000,000
  // 7.6 and 10.8 ms.
  static constexpr int kSpins = 200000;
  int size_ = 1;
  std::shared_ptr<Team> team_ = std::make_shared<Team>();
  std::vector<std::thread> threads_;
};

}  // namespace engine
}  // namespace mnv2

#endif  // MNV2_ENGINE_WORKERS_H_
