// hnswlib side of benchmarks/compare-vectors.sh: build (M=16, efConstruction=200, inner product, one thread), save,
// reload, and search at several ef values. Built with -O3 -march=native against Debian's libhnswlib-dev headers.
// Usage: hnswlib_bench N D NQ K DATA_DIR   -> prints one JSON object.
#include <hnswlib/hnswlib.h>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

// CPU time of this thread: the machine is shared, and time spent preempted by other processes is not ours or theirs.
static double now() { timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
static double wall() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

template <typename T> static std::vector<T> load(const std::string& path, size_t count) {
    std::vector<T> v(count);
    std::ifstream f(path, std::ios::binary);
    f.read(reinterpret_cast<char*>(v.data()), count * sizeof(T));
    return v;
}

int main(int argc, char** argv) {
    size_t n = std::stoul(argv[1]), d = std::stoul(argv[2]), nq = std::stoul(argv[3]), k = std::stoul(argv[4]);
    std::string dir = argv[5];
    auto base = load<float>(dir + "/base.f32", n * d);
    auto queries = load<float>(dir + "/queries.f32", nq * d);
    auto gt = load<int>(dir + "/gt.i32", nq * k);

    // Streaming read bandwidth over the same array (a plain summing pass), best of 5.
    double best_stream = 1e9; volatile float sink = 0;
    for (int r = 0; r < 5; r++) {
        double t = now(); float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i + 4 <= n * d; i += 4) { s0 += base[i]; s1 += base[i + 1]; s2 += base[i + 2]; s3 += base[i + 3]; }
        sink = s0 + s1 + s2 + s3; best_stream = std::min(best_stream, now() - t);
    }

    hnswlib::InnerProductSpace space(d);
    double t0 = now(), w0 = wall();
    auto* index = new hnswlib::HierarchicalNSW<float>(&space, n, 16, 200, 100);
    for (size_t i = 0; i < n; i++) index->addPoint(base.data() + i * d, i);
    double build = now() - t0, build_wall = wall() - w0;
    std::string path = dir + "/hnswlib.bin";
    index->saveIndex(path);
    std::ifstream sz(path, std::ios::binary | std::ios::ate); long long bytes = sz.tellg();
    t0 = now();
    auto* loaded = new hnswlib::HierarchicalNSW<float>(&space, path);
    double reload = now() - t0;
    delete index;

    std::printf("{\"stream_gbps\": %.3f, \"build_s\": %.3f, \"build_wall_s\": %.3f, \"reload_s\": %.4f, \"file_bytes\": %lld, \"sweep\": [", (n * d * 4) / best_stream / 1e9, build, build_wall, reload, bytes);
    int efs[] = {10, 16, 24, 32, 48, 64, 96, 128};
    for (int e = 0; e < 8; e++) {
        loaded->setEf(efs[e]);
        double best = 1e9; std::vector<int> found(nq * k, -1);
        for (int rep = 0; rep < 3; rep++) {
            double t = now();
            for (size_t q = 0; q < nq; q++) {
                auto res = loaded->searchKnn(queries.data() + q * d, k);
                for (size_t j = 0; !res.empty(); j++) { found[q * k + j] = (int)res.top().second; res.pop(); }
            }
            best = std::min(best, now() - t);
        }
        size_t hits = 0;
        for (size_t q = 0; q < nq; q++) {
            std::set<int> truth(gt.begin() + q * k, gt.begin() + (q + 1) * k);
            for (size_t j = 0; j < k; j++) hits += truth.count(found[q * k + j]);
        }
        double recall = (double)hits / (nq * k);
        std::printf("%s{\"ef\": %d, \"recall\": %.4f, \"qps\": %.1f}", e ? ", " : "", efs[e], recall, nq / best);
    }
    std::printf("]}\n");
    (void)sink;
    return 0;
}
