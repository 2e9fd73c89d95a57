#include "bench/loadgen/board.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "common/board.h"
#include "common/events.h"

namespace chatpipe::bench {
namespace {

TEST(BoardScheduleTest, EveryPlacementPaintsItsOwnPixelWithAColourFoundAgain) {
  const BoardSchedule s(7, 5, 16, 1000, 0);
  std::set<std::pair<int, int>> pixels;
  for (uint64_t k = 0; k < s.capacity(); ++k) {
    const BoardPixel p = s.At(k);
    EXPECT_TRUE(pixels.emplace(p.x, p.y).second) << k;
    EXPECT_GE(p.color, 1);  // never the colour of an empty pixel
    EXPECT_LE(p.color, 15);
    EXPECT_EQ(s.Find(p.x, p.y, p.color), k);
  }
  EXPECT_EQ(pixels.size(), 35u);
}

TEST(BoardScheduleTest, EveryPlacementIsOneTheBoardTakes) {
  BoardConfig board;  // 1000 x 1000, 16 colours
  const BoardSchedule s(board.width, board.height, static_cast<int>(board.palette.size()), 50000, 0);
  for (uint64_t k : {uint64_t{0}, uint64_t{1}, uint64_t{999}, uint64_t{1000}, uint64_t{499999}, s.capacity() - 1}) {
    const BoardPixel p = s.At(k);
    EXPECT_TRUE(board.CheckPixel(p.x, p.y, p.color).ok()) << k;
    EXPECT_EQ(board.Index(p.x, p.y), k);
  }
}

TEST(BoardScheduleTest, AnotherColourOrAPixelOffTheBoardIsNoPlacementOfTheRun) {
  const BoardSchedule s(10, 10, 4, 100, 0);
  const BoardPixel p = s.At(42);
  EXPECT_FALSE(s.Find(p.x, p.y, 0));
  EXPECT_FALSE(s.Find(p.x, p.y, p.color % 3 + 1));
  EXPECT_FALSE(s.Find(10, 0, 1));
  EXPECT_FALSE(s.Find(0, 10, 1));
  EXPECT_FALSE(s.Find(-1, 0, 1));
}

TEST(BoardScheduleTest, PlacementsAreDueOnTheOpenLoopScheduleAndCountedUpToTheBoard) {
  const BoardSchedule s(1000, 1000, 16, 50000, 1'000'000'000);
  EXPECT_EQ(s.DueNs(0), 1'000'000'000);
  EXPECT_EQ(s.DueNs(50000), 2'000'000'000);
  EXPECT_EQ(s.DueNs(1), 1'000'020'000);
  EXPECT_EQ(s.Count(8), 400000u);
  EXPECT_EQ(s.Count(0.00001), 1u);  // k = 0 is due at the start
  EXPECT_EQ(s.Count(30), 1000000u);  // at most one placement a pixel
  EXPECT_EQ(BoardSchedule(10, 10, 16, 3, 0).Count(1.5), 5u);  // due at 0, 1/3, 2/3, 1, 4/3
}

TEST(PixelsFrameTest, ReadsTheDocumentedFrame) {
  PixelsFrame f;
  ASSERT_TRUE(ParsePixelsFrame(R"({"type":"pixels","prev":41,"v":43,"pixels":[[12,7,5],[13,7,5],[500,500,2]]})", &f));
  EXPECT_EQ(f.prev, 41);
  EXPECT_EQ(f.v, 43);
  ASSERT_EQ(f.pixels.size(), 3u);
  EXPECT_EQ(std::tie(f.pixels[0].x, f.pixels[0].y, f.pixels[0].color), std::make_tuple(12, 7, 5));
  EXPECT_EQ(std::tie(f.pixels[2].x, f.pixels[2].y, f.pixels[2].color), std::make_tuple(500, 500, 2));
}

TEST(PixelsFrameTest, KeysInAnyOrderSpacesAndAnEmptyList) {
  PixelsFrame f;
  ASSERT_TRUE(ParsePixelsFrame(R"({ "pixels" : [ [1, 2, 3] ,[4,5,6] ], "v" : 9, "type" : "pixels", "prev" : 8 })", &f));
  EXPECT_EQ(f.prev, 8);
  EXPECT_EQ(f.v, 9);
  ASSERT_EQ(f.pixels.size(), 2u);
  EXPECT_EQ(f.pixels[1].color, 6);
  ASSERT_TRUE(ParsePixelsFrame(R"({"type":"pixels","prev":0,"v":1,"pixels":[]})", &f));
  EXPECT_TRUE(f.pixels.empty());
}

TEST(PixelsFrameTest, RefusesOtherFramesAndMalformedOnes) {
  PixelsFrame f;
  EXPECT_FALSE(ParsePixelsFrame(R"({"type":"board_subscribed"})", &f));
  EXPECT_FALSE(ParsePixelsFrame(R"({"type":"pixels","v":1,"pixels":[]})", &f));  // no prev
  EXPECT_FALSE(ParsePixelsFrame(R"({"type":"pixels","prev":0,"v":1})", &f));
  EXPECT_FALSE(ParsePixelsFrame(R"({"type":"pixels","prev":0,"v":1,"pixels":[[1,2]]})", &f));
  EXPECT_FALSE(ParsePixelsFrame(R"({"type":"pixels","prev":0,"v":1,"pixels":[[1,2,3]})", &f));
  EXPECT_FALSE(ParsePixelsFrame(R"({"type":"pixels","prev":0,"v":1,"pixels":[[1,-2,3]]})", &f));
  EXPECT_FALSE(ParsePixelsFrame(R"({"type":"pixels","prev":0,"v":1,"pixels":[[1,2,3],]})", &f));
  EXPECT_FALSE(ParsePixelsFrame(R"({"type":"pixels","prev":0,"v":1,"pixels":[[1,2,3)", &f));
  EXPECT_FALSE(ParsePixelsFrame("", &f));
}

TEST(PixelsFrameTest, TheTypeOfAnyFrame) {
  EXPECT_EQ(BoardFrameType(R"({"type":"board_subscribed"})"), "board_subscribed");
  EXPECT_EQ(BoardFrameType(R"({"type" : "error","error":{"code":"x"}})"), "error");
  EXPECT_EQ(BoardFrameType(R"({"kind":"pixels"})"), "");
  EXPECT_EQ(BoardFrameType(R"({"type":"unterminated)"), "");
}

TEST(PlaceFrameTest, IsTheDocumentedFrame) {
  EXPECT_EQ(PlaceFrame(BoardPixel{12, 7, 5}), R"({"type":"place","x":12,"y":7,"color":5})");
  EXPECT_EQ(PlaceFrame(BoardPixel{999, 0, 15}), R"({"type":"place","x":999,"y":0,"color":15})");
}

TEST(PlaceFrameTest, AnErrorFrameIsCountedByItsCode) {
  EXPECT_EQ(ErrorFrameCode(R"({"type":"error","code":"busy","reason":"16 placements await their answer"})"), "busy");
  EXPECT_EQ(ErrorFrameCode(R"({"type":"error","code":"rate_limited","reason":"wait","retry_after_ms":4200})"),
            "rate_limited");
  // A reason that quotes a key does not fool it, nor does a code after the reason.
  EXPECT_EQ(ErrorFrameCode(R"({"type":"error","reason":"say \"code\": x","code":"draining"})"), "draining");
  EXPECT_EQ(ErrorFrameCode(R"({"type":"placed","id":"42","ts":1,"code":"x"})"), "");  // not an error
  EXPECT_EQ(ErrorFrameCode(R"({"type":"error","reason":"no code"})"), "");
  EXPECT_EQ(ErrorFrameCode(R"({"type":"error","code":7})"), "");
}

TEST(PixelSetTest, AddsOnceCountsAndTellsWhatIsMissing) {
  PixelSet acked(200), seen(200);
  for (uint64_t k : {0, 1, 63, 64, 65, 130, 199}) EXPECT_TRUE(acked.Add(k));
  EXPECT_FALSE(acked.Add(64));
  EXPECT_FALSE(acked.Add(200));  // past the capacity
  EXPECT_EQ(acked.count(), 7u);
  EXPECT_EQ(seen.Missing(acked), 7u);
  for (uint64_t k : {0, 63, 64, 100, 199}) seen.Add(k);  // 100 was never acked: not "missing" either way
  EXPECT_EQ(seen.Missing(acked), 3u);                     // 1, 65, 130
  EXPECT_TRUE(seen.Contains(100));
  EXPECT_FALSE(seen.Contains(1));
  for (uint64_t k : {1, 65, 130}) seen.Add(k);
  EXPECT_EQ(seen.Missing(acked), 0u);
}

TEST(PixelSetTest, MergeIsTheUnion) {
  PixelSet a(130), b(130);
  a.Add(1);
  a.Add(129);
  b.Add(1);
  b.Add(64);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_TRUE(a.Contains(64));
  EXPECT_TRUE(a.Contains(129));
}

}  // namespace
}  // namespace chatpipe::bench
