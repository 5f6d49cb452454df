#!/bin/sh
# gxx_stl.sh - a C++ program built with g++ that leans on the STL (map,
# unordered_map, string, vector, list, shared_ptr, sort, exceptions, threads)
# prints the same under LD_PRELOAD as under glibc, and its operator new
# requests are served by the pools.
. "$top_srcdir/tests/preload/common.sh"
need_tool g++

cat >"$tmp/stl.cc" <<'CCEOF'
#include <algorithm>
#include <cstdio>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct Node {
    std::string name;
    std::vector<std::shared_ptr<Node>> kids;
};

int main()
{
    std::map<std::string, int> m;
    std::unordered_map<int, std::string> u;
    for (int i = 0; i < 100000; i++) {
        m["key" + std::to_string(i % 5003)] += i;
        u[i] = std::string(static_cast<size_t>(i % 40), static_cast<char>('a' + i % 26));
    }
    long msum = 0;
    for (auto &kv : m)
        msum += kv.second;
    size_t ulen = 0;
    for (auto &kv : u)
        ulen += kv.second.size();
    std::printf("map %zu %ld unordered %zu %zu\n", m.size(), msum, u.size(), ulen);

    std::vector<std::string> words;
    for (int i = 0; i < 50000; i++) {
        std::ostringstream os;
        os << "w" << (i * 7919) % 10007 << "_" << i % 13;
        words.push_back(os.str());
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    std::printf("words %zu %s %s\n", words.size(), words.front().c_str(), words.back().c_str());

    std::list<std::vector<int>> lv;
    for (int i = 0; i < 20000; i++) {
        lv.emplace_back(static_cast<size_t>(i % 50), i);
        if (i % 3 == 0)
            lv.pop_front();
    }
    long lsum = 0;
    for (auto &v : lv)
        lsum += std::accumulate(v.begin(), v.end(), 0L);
    std::printf("list %zu %ld\n", lv.size(), lsum);

    auto root = std::make_shared<Node>();
    for (int i = 0; i < 2000; i++) {
        auto n = std::make_shared<Node>();
        n->name = "node" + std::to_string(i);
        for (int k = 0; k < 5; k++)
            n->kids.push_back(std::make_shared<Node>(Node{n->name + "/" + std::to_string(k), {}}));
        root->kids.push_back(n);
    }
    size_t names = 0;
    for (auto &n : root->kids)
        for (auto &k : n->kids)
            names += k->name.size();
    std::printf("tree %zu %zu\n", root->kids.size(), names);

    int caught = 0;
    for (int i = 0; i < 1000; i++) {
        try {
            throw std::runtime_error("error number " + std::to_string(i));
        } catch (const std::exception &e) {
            caught += e.what()[0] == 'e';
        }
    }
    std::printf("exceptions %d\n", caught);

    std::mutex mu;
    std::set<std::string> shared;
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; t++)
        ts.emplace_back([&, t] {
            std::vector<std::string> local;
            for (int i = 0; i < 20000; i++)
                local.push_back(std::to_string(t) + ":" + std::to_string(i % 1000));
            std::lock_guard<std::mutex> g(mu);
            shared.insert(local.begin(), local.end());
        });
    for (auto &th : ts)
        th.join();
    std::printf("threads %zu\n", shared.size());
    return 0;
}
CCEOF

timeout 120 g++ -O1 -pthread -o "$tmp/stl" "$tmp/stl.cc" || fail "g++ could not build the test program"
compare_run stl "$tmp/stl"
grep -q '^threads 4000$' "$tmp/stl.poolgc.out" || fail "the STL program did not finish correctly"
stats_run stl "$tmp/stl" || fail "the STL program failed with POOLGC_STATS=json (rc $rc)"
check_pools stl
exit 0
