#include "batch/MpiBatch.h"

#ifdef CTD_WITH_MPI

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "batch/BatchPlan.h"
#include "batch/Progress.h"
#include "batch/ReportCollector.h"
#include "batch/Shard.h"
#include "batch/ThreadBudget.h"
#include "core/Error.h"
#include "pipeline/Log.h"

namespace ctd::batch {
namespace {

constexpr int kTagRequest = 1;  // worker -> 0: give me a case (no payload)
constexpr int kTagAssign = 2;   // 0 -> worker: int64 slot, -1 = no more
constexpr int kTagResult = 3;   // worker -> 0: int64 slot + the case report as JSON

void pause() { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }

// Waits for a non-blocking request with short sleeps: Open MPI's blocking calls
// spin at 100 % CPU, which would take a core from the ranks still working.
void waitGently(MPI_Request& req) {
  for (int flag = 0;;) {
    MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
    if (flag) return;
    pause();
  }
}

std::string planToJson(const BatchPlan& plan) {
  nlohmann::json j;
  j["single_case"] = plan.discovery.single_case;
  j["selected"] = plan.selected;
  const auto entries = [](const std::vector<SetAside>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& s : v) a.push_back({s.path.string(), s.reason});
    return a;
  };
  j["outside_cases"] = entries(plan.outside_cases);
  j["case_skipped"] = nlohmann::json::array();
  for (const auto& v : plan.case_skipped) j["case_skipped"].push_back(entries(v));
  j["cases"] = nlohmann::json::array();
  for (const auto& c : plan.discovery.cases) {
    nlohmann::json e{{"root", c.root.string()}, {"name", c.name}, {"files", nlohmann::json::array()}};
    for (const auto& f : c.files) e["files"].push_back(f.string());
    j["cases"].push_back(std::move(e));
  }
  return j.dump();
}

BatchPlan planFromJson(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  BatchPlan plan;
  plan.discovery.single_case = j.at("single_case").get<bool>();
  plan.selected = j.at("selected").get<std::vector<std::size_t>>();
  const auto entries = [](const nlohmann::json& a) {
    std::vector<SetAside> v;
    for (const auto& e : a) v.push_back({e.at(0).get<std::string>(), e.at(1).get<std::string>()});
    return v;
  };
  plan.outside_cases = entries(j.at("outside_cases"));
  for (const auto& a : j.at("case_skipped")) plan.case_skipped.push_back(entries(a));
  for (const auto& e : j.at("cases")) {
    CaseInput c;
    c.root = e.at("root").get<std::string>();
    c.name = e.at("name").get<std::string>();
    for (const auto& f : e.at("files")) c.files.emplace_back(f.get<std::string>());
    plan.discovery.cases.push_back(std::move(c));
  }
  return plan;
}

void broadcastString(std::string& s, int rank) {
  std::uint64_t n = s.size();
  MPI_Request req;
  MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req);
  waitGently(req);
  if (rank != 0) s.resize(n);
  // Large plans go in pieces: MPI counts are ints.
  constexpr std::uint64_t kChunk = 1u << 30;
  for (std::uint64_t at = 0; at < n; at += kChunk) {
    MPI_Ibcast(s.data() + at, static_cast<int>(std::min(kChunk, n - at)), MPI_CHAR, 0, MPI_COMM_WORLD, &req);
    waitGently(req);
  }
}

// Ranks running cases on this machine, for the thread budget: every rank on the
// node except rank 0 when it only coordinates.
int workersOnThisNode(int rank, int size) {
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
  int node_size = 1;
  MPI_Comm_size(node, &node_size);
  int coordinator = (rank == 0 && size > 1) ? 1 : 0, coordinators = 0;
  MPI_Allreduce(&coordinator, &coordinators, 1, MPI_INT, MPI_SUM, node);
  MPI_Comm_free(&node);
  return std::max(1, node_size - coordinators);
}

void coordinate(const DefaceOptions& opt, const BatchPlan& plan, int size, ReportCollector& collector) {
  const std::size_t n = plan.selected.size();
  Progress progress(n);
  std::size_t next = 0, received = 0;
  int stopped = 0;
  while (received < n || stopped < size - 1) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) {
      pause();
      continue;
    }
    if (st.MPI_TAG == kTagRequest) {
      MPI_Recv(nullptr, 0, MPI_CHAR, st.MPI_SOURCE, kTagRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      const std::int64_t slot = next < n ? static_cast<std::int64_t>(next++) : -1;
      if (slot < 0) ++stopped;
      MPI_Send(&slot, 1, MPI_INT64_T, st.MPI_SOURCE, kTagAssign, MPI_COMM_WORLD);
    } else if (st.MPI_TAG == kTagResult) {
      int bytes = 0;
      MPI_Get_count(&st, MPI_CHAR, &bytes);
      std::string buf(static_cast<std::size_t>(bytes), '\0');
      MPI_Recv(buf.data(), bytes, MPI_CHAR, st.MPI_SOURCE, kTagResult, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      std::int64_t slot = -1;
      std::memcpy(&slot, buf.data(), sizeof slot);
      CaseReport r = caseReportFromJson(nlohmann::json::parse(buf.substr(sizeof slot)));
      progress.caseFinished(r);
      collector.finished(static_cast<std::size_t>(slot), std::move(r));
      ++received;
    } else {
      throw Error("MPI: unexpected message tag " + std::to_string(st.MPI_TAG));
    }
  }
  (void)opt;
}

// A worker rank: its main thread talks to rank 0 (MPI_THREAD_FUNNELED); `jobs`
// threads run the cases it gets.
void work(const DefaceOptions& case_opt, const BatchPlan& plan, int jobs) {
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::size_t> todo;
  std::deque<std::pair<std::size_t, CaseReport>> results;
  bool no_more = false;
  std::size_t in_flight = 0;

  std::thread pool([&] {
    runCaseWorkers(
        plan, case_opt, jobs,
        [&](std::size_t& slot) {
          std::unique_lock<std::mutex> lock(m);
          cv.wait(lock, [&] { return !todo.empty() || no_more; });
          if (todo.empty()) return false;
          slot = todo.front();
          todo.pop_front();
          return true;
        },
        [&](std::size_t slot, CaseReport r) {
          std::lock_guard<std::mutex> lock(m);
          results.emplace_back(slot, std::move(r));
          cv.notify_all();
        });
  });

  bool stopped = false;
  for (;;) {
    // Ask for work while a local worker would be idle.
    while (!stopped) {
      {
        std::lock_guard<std::mutex> lock(m);
        if (in_flight >= static_cast<std::size_t>(jobs)) break;
      }
      MPI_Request req;
      MPI_Isend(nullptr, 0, MPI_CHAR, 0, kTagRequest, MPI_COMM_WORLD, &req);
      waitGently(req);
      std::int64_t slot = -1;
      MPI_Irecv(&slot, 1, MPI_INT64_T, 0, kTagAssign, MPI_COMM_WORLD, &req);
      waitGently(req);
      std::lock_guard<std::mutex> lock(m);
      if (slot < 0) {
        stopped = true;
        no_more = true;
      } else {
        todo.push_back(static_cast<std::size_t>(slot));
        ++in_flight;
      }
      cv.notify_all();
    }
    std::pair<std::size_t, CaseReport> result;
    {
      std::unique_lock<std::mutex> lock(m);
      if (stopped && in_flight == 0) break;
      cv.wait(lock, [&] { return !results.empty(); });
      result = std::move(results.front());
      results.pop_front();
      --in_flight;
    }
    const std::int64_t slot = static_cast<std::int64_t>(result.first);
    std::string buf(sizeof slot, '\0');
    std::memcpy(buf.data(), &slot, sizeof slot);
    buf += toJson(result.second).dump();
    MPI_Request req;
    MPI_Isend(buf.data(), static_cast<int>(buf.size()), MPI_CHAR, 0, kTagResult, MPI_COMM_WORLD, &req);
    waitGently(req);
  }
  pool.join();
}

}  // namespace

int runMpiBatch(const DefaceOptions& opt) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  int exit_code = 1;
  try {
    std::string plan_text;
    BatchPlan plan;
    if (rank == 0) {
      std::filesystem::create_directories(opt.output);
      plan = planBatch(opt);
      plan_text = planToJson(plan);
      log::info(std::to_string(plan.selected.size()) + " cases under " + opt.input.string() + ", " +
                std::to_string(size) + " MPI ranks (" + std::to_string(std::max(1, size - 1)) + " running cases)");
    }
    broadcastString(plan_text, rank);
    if (rank != 0) plan = planFromJson(plan_text);

    const int workers_here = workersOnThisNode(rank, size);
    const int jobs = std::max(1, opt.jobs);
    DefaceOptions case_opt = opt;
    case_opt.threads = threadsPerCase(opt.threads > 0 ? opt.threads : availableCores(), workers_here * jobs);
    if (case_opt.max_memory) case_opt.max_memory /= static_cast<std::uint64_t>(workers_here * jobs);

    const Shard shard{opt.shard_index, opt.shard_count};
    if (rank == 0) {
      ReportCollector collector(opt, plan, shard.reportStem());
      collector.start();
      if (size == 1) {
        std::size_t next = 0;
        std::mutex m;
        Progress progress(plan.selected.size());
        runCaseWorkers(
            plan, case_opt, jobs,
            [&](std::size_t& slot) {
              std::lock_guard<std::mutex> lock(m);
              slot = next++;
              return slot < plan.selected.size();
            },
            [&](std::size_t slot, CaseReport r) {
              progress.caseFinished(r);
              collector.finished(slot, std::move(r));
            });
      } else {
        coordinate(opt, plan, size, collector);
      }
      exit_code = finishBatch(opt, collector);
    } else {
      work(case_opt, plan, jobs);
      exit_code = 0;
    }
  } catch (const std::exception& e) {
    log::error("rank " + std::to_string(rank) + ": " + e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  // Every rank exits with rank 0's code, so mpirun's status is the report's.
  MPI_Request req;
  MPI_Ibcast(&exit_code, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
  waitGently(req);
  MPI_Finalize();
  return exit_code;
}

}  // namespace ctd::batch

#endif  // CTD_WITH_MPI
