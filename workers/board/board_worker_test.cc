// The board worker against the real PostgreSQL, Redis and Kafka.
#include "workers/board/board_worker.h"

#include <set>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "common/message_id.h"
#include "storage/board_store.h"
#include "tests/support/redis_subscriber.h"
#include "tests/support/wait.h"
#include "tests/support/worker_env.h"
#include "workers/consume/worker_metrics.h"

namespace chatpipe {
namespace {

using namespace std::chrono_literals;
using test::Subscriber;
using test::WaitFor;
using test::WorkerThread;

struct Published {
  int64_t prev = -1, v = -1;
  std::vector<std::array<int, 3>> pixels;
};

Published ParsePixels(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  Published f;
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("type") || d["type"] != "pixels") return f;
  f.prev = d["prev"].GetInt64();
  f.v = d["v"].GetInt64();
  for (const auto& p : d["pixels"].GetArray()) f.pixels.push_back({p[0].GetInt(), p[1].GetInt(), p[2].GetInt()});
  return f;
}

class BoardWorkerTest : public test::WorkerEnvTest {
 protected:
  void SetUp() override {
    WorkerEnvTest::SetUp();
    if (HasFatalFailure()) return;
    options_.board.width = 8;
    options_.board.height = 4;
    worker_ = std::make_unique<BoardWorker>(env_->config(), options_);
    auto sub = Subscriber::Create(env_->config(), {BoardChannel(env_->config().RedisPrefix())});
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    sub_ = std::move(*sub);
  }

  // A placement with an id stamped at `ms` after the epoch of ids (so tests choose the order).
  PixelPlacement At(uint64_t ms, int x, int y, int color, int64_t user = 7) {
    uint64_t id = ((ms + 1000) << (MessageIdGenerator::kInstanceBits + MessageIdGenerator::kSequenceBits)) | (1u << 12);
    return {.id = id, .user = user, .x = x, .y = y, .color = color,
            .ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(id))};
  }
  int Pixel(int x, int y) {
    auto r = env_->redis().Command({"GET", BoardKey(env_->config().RedisPrefix())});
    EXPECT_TRUE(r.ok());
    const std::string& bytes = r->str;
    size_t index = static_cast<size_t>(y) * options_.board.width + x;
    if (index / 2 >= bytes.size()) return 0;
    unsigned char b = static_cast<unsigned char>(bytes[index / 2]);
    return index % 2 == 0 ? b >> 4 : b & 0x0f;
  }
  int64_t Version() {
    auto r = env_->redis().Command({"GET", BoardVersionKey(env_->config().RedisPrefix())});
    return r.ok() && !r->str.empty() ? std::stoll(r->str) : 0;
  }
  int64_t HistoryRows() { return *env_->QueryInt("SELECT count(*) FROM board_placements"); }
  Published NextFrame() {
    auto text = sub_->Next(10s);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    PixelsFrame head;  // the layout ingress reads without parsing (common/events.h)
    EXPECT_TRUE(text.ok() && ReadPixelsFrame(*text, &head)) << (text.ok() ? *text : "");
    return text.ok() ? ParsePixels(*text) : Published{};
  }

  BoardWorkerOptions options_;
  std::unique_ptr<BoardWorker> worker_;
  std::unique_ptr<Subscriber> sub_;
};

TEST_F(BoardWorkerTest, APixelShowsItsHighestIdAndOneFrameTellsTheBatch) {
  ASSERT_TRUE(worker_->Apply({At(2, 1, 0, 5), At(1, 1, 0, 3), At(3, 7, 3, 15), At(4, 1, 0, 9)}).ok());
  EXPECT_EQ(Pixel(1, 0), 9);
  EXPECT_EQ(Pixel(7, 3), 15);
  EXPECT_EQ(Pixel(0, 0), 0);
  EXPECT_EQ(HistoryRows(), 4);  // the history keeps the placement that never showed too
  Published f = NextFrame();
  EXPECT_EQ(f.prev, 0);  // the empty board
  EXPECT_EQ(Version(), f.v);
  EXPECT_GT(f.v, 1'700'000'000'000);  // a new board's versions start at the time
  // (1,0) at id 1 came after id 2 in the batch and lost; the rest in order.
  EXPECT_EQ(f.pixels, (std::vector<std::array<int, 3>>{{1, 0, 5}, {7, 3, 15}, {1, 0, 9}}));
}

TEST_F(BoardWorkerTest, AReplayOrAnOlderPlacementChangesAndPublishesNothing) {
  const std::vector<PixelPlacement> batch = {At(10, 2, 2, 4), At(11, 3, 2, 6)};
  ASSERT_TRUE(worker_->Apply(batch).ok());
  const int64_t v = NextFrame().v;
  ASSERT_TRUE(worker_->Apply(batch).ok());            // a replay
  ASSERT_TRUE(worker_->Apply({At(5, 2, 2, 1)}).ok());  // older than what (2,2) shows
  EXPECT_EQ(Version(), v);
  EXPECT_EQ(Pixel(2, 2), 4);
  EXPECT_EQ(HistoryRows(), 3);
  // The next frame is the next change: the replay and the older placement published nothing.
  ASSERT_TRUE(worker_->Apply({At(12, 2, 2, 8)}).ok());
  Published f = NextFrame();
  EXPECT_EQ(f.prev, v);
  EXPECT_EQ(f.v, v + 1);
  EXPECT_EQ(f.pixels, (std::vector<std::array<int, 3>>{{2, 2, 8}}));
}

TEST_F(BoardWorkerTest, ABatchOfMoreFieldsThanOneBitfieldCallIsAppliedWholeAsOneVersion) {
  // 1,500 pixels of a 100 x 50 board, 2,010 placements: more than one BITFIELD read (1,000 fields)
  // and more than one write (1,000 fields) each.
  options_.board.width = 100;
  options_.board.height = 50;
  worker_ = std::make_unique<BoardWorker>(env_->config(), options_);
  std::vector<PixelPlacement> batch;
  for (uint64_t i = 0; i < 2010; ++i) batch.push_back(At(100 + i, i % 100, (i / 100) % 15, i % 16));
  ASSERT_TRUE(worker_->Apply(batch).ok());
  for (int pixel = 0; pixel < 1500; ++pixel) {
    // The last placement of each pixel wins: the highest i with that pixel.
    int last = pixel + 1500 < 2010 ? pixel + 1500 : pixel;
    ASSERT_EQ(Pixel(pixel % 100, pixel / 100), last % 16) << pixel;
  }
  Published f = NextFrame();
  EXPECT_EQ(f.prev, 0);
  EXPECT_EQ(f.v, Version());
  EXPECT_EQ(f.pixels.size(), batch.size());  // ids rise through the batch: each one changed its pixel
  EXPECT_EQ(f.pixels.back(), (std::array<int, 3>{9, 5, 2009 % 16}));
}

TEST_F(BoardWorkerTest, AWriteIsRefusedWhenAnotherMovedTheVersionAfterItsRead) {
  const std::string p = env_->config().RedisPrefix();
  ASSERT_TRUE(worker_->Apply({At(1, 4, 1, 2)}).ok());
  const std::vector<PixelPlacement> mine = {At(5, 4, 1, 6), At(6, 0, 3, 6)};
  auto shown = ReadShown(env_->redis(), p, mine, options_.board);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  const std::string version = shown->version;
  BoardChange change = PlanChange(mine, options_.board, std::move(*shown));
  ASSERT_EQ(change.changed, 2);
  // Another worker applies a newer placement of (4,1) between this read and this write.
  ASSERT_TRUE(worker_->Apply({At(9, 4, 1, 12)}).ok());
  auto stale = WriteChange(env_->redis(), p, change, version, 0);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_FALSE(stale->has_value()) << "the version moved: the write must be refused";
  EXPECT_EQ(Pixel(4, 1), 12);
  EXPECT_EQ(Pixel(0, 3), 0);
  // Read again, only (0,3) changes: (4,1) shows a newer placement than id 5.
  auto applied = ApplyPlacements(env_->redis(), p, mine, options_.board, 0);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->changed, 1);
  EXPECT_EQ(Pixel(4, 1), 12);
  EXPECT_EQ(Pixel(0, 3), 6);
}

TEST_F(BoardWorkerTest, TheHistoryKeepsEachPlacementOnceWithItsTimeThoughBatchesOverlap) {
  const std::vector<PixelPlacement> first = {At(20, 1, 1, 3, 41), At(21, 2, 1, 4, 42)};
  ASSERT_TRUE(worker_->Apply(first).ok());
  // A replay that goes on past what was stored: the stored two stay once, the new one goes in.
  std::vector<PixelPlacement> overlap = first;
  overlap.push_back(At(22, 3, 1, 5, 43));
  ASSERT_TRUE(worker_->Apply(overlap).ok());
  EXPECT_EQ(HistoryRows(), 3);
  for (const PixelPlacement& p : overlap) {
    auto row = env_->QueryInt("SELECT count(*) FROM board_placements WHERE id = " + std::to_string(p.id) +
                              " AND x = " + std::to_string(p.x) + " AND y = " + std::to_string(p.y) +
                              " AND color = " + std::to_string(p.color) + " AND user_id = " + std::to_string(p.user) +
                              " AND placed_at = 'epoch'::timestamptz + " + std::to_string(p.ts_ms) +
                              " * interval '1 millisecond'");
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_EQ(*row, 1) << p.id;
  }
  EXPECT_EQ(Pixel(3, 1), 5);
}

TEST_F(BoardWorkerTest, AnOffBoardPlacementIsRefusedAndTheRestApplied) {
  Status s = worker_->Apply({At(1, 0, 0, 2), At(2, 8, 0, 2), At(3, 1, 1, 16)});
  EXPECT_EQ(s.name(), "bad_pixel");
  EXPECT_EQ(Pixel(0, 0), 2);
  EXPECT_EQ(HistoryRows(), 1);
}

TEST_F(BoardWorkerTest, ABoardRedisLostIsRestoredFromTheHistory) {
  ASSERT_TRUE(worker_->Apply({At(1, 0, 0, 3), At(2, 5, 1, 7), At(3, 5, 1, 9)}).ok());
  const int64_t before = NextFrame().v;
  const std::string p = env_->config().RedisPrefix();
  auto wipe = [&] {
    for (const std::string& key : {BoardKey(p), BoardIdsKey(p), BoardVersionKey(p)})
      ASSERT_TRUE(env_->redis().Command({"DEL", key}).ok());
  };
  // Lost while the worker runs: the next batch finds no version and brings the history back.
  wipe();
  ASSERT_TRUE(worker_->Apply({At(4, 2, 2, 4)}).ok());
  EXPECT_EQ(Pixel(0, 0), 3);
  EXPECT_EQ(Pixel(5, 1), 9);
  EXPECT_EQ(Pixel(2, 2), 4);
  EXPECT_GT(Version(), before);  // never back: a client's old board is older than every new frame
  // The restored ids hold too: an older placement still loses.
  ASSERT_TRUE(worker_->Apply({At(2, 5, 1, 1)}).ok());
  EXPECT_EQ(Pixel(5, 1), 9);
  // Lost while no worker ran: a worker restores it as it starts.
  wipe();
  BoardWorker another(env_->config(), options_);
  ASSERT_TRUE(another.Start().ok());
  EXPECT_EQ(Pixel(0, 0), 3);
  EXPECT_EQ(Pixel(5, 1), 9);
  EXPECT_EQ(Pixel(2, 2), 4);
  EXPECT_GT(Version(), before);
}

TEST_F(BoardWorkerTest, ConsumesBoardPixelsAndDeadLettersWhatItCannotApply) {
  const std::string topic = env_->config().Topic(kBoardTopic);
  ASSERT_TRUE(env_->ProduceTo(topic, "0", "not json").ok());
  ASSERT_TRUE(env_->ProduceTo(topic, "0", EncodePixelBatch({At(1, 99, 0, 1), At(3, 6, 0, 2)})).ok());  // one off this board
  ASSERT_TRUE(env_->ProduceTo(topic, "3", EncodePixelBatch({At(2, 3, 0, 11), At(4, 4, 0, 12)})).ok());
  WorkerMetrics metrics = WorkerMetrics::For("board");
  const int64_t dead_before = metrics.dead_letters.value();
  ASSERT_TRUE(worker_->Start().ok());
  auto running = std::make_unique<WorkerThread>([this](const std::atomic<bool>& stop) { worker_->Run(stop); });
  // The events may come in one batch or two: the on-board placements are shown once each, either way.
  std::set<std::array<int, 3>> shown;
  for (int frames = 0; frames < 3 && shown.size() < 3; ++frames)
    for (const auto& pixel : NextFrame().pixels) EXPECT_TRUE(shown.insert(pixel).second) << "shown twice";
  EXPECT_EQ(shown, (std::set<std::array<int, 3>>{{6, 0, 2}, {3, 0, 11}, {4, 0, 12}}));
  // Dead letters: the message that is not JSON, and the event holding the off-board placement.
  EXPECT_TRUE(WaitFor([&] { return metrics.dead_letters.value() >= dead_before + 2; }));
  running.reset();
  EXPECT_EQ(metrics.dead_letters.value(), dead_before + 2);
  EXPECT_EQ(Pixel(3, 0), 11);
  EXPECT_EQ(Pixel(4, 0), 12);
  EXPECT_EQ(Pixel(6, 0), 2);
}

}  // namespace
}  // namespace chatpipe
