#include "storage/board_history.h"

#include <limits>

#include "common/message_id.h"

namespace chatpipe {

BoardImage::BoardImage(const BoardConfig& config)
    : width_(config.width),
      height_(config.height),
      colors_(static_cast<int>(config.palette.size())),
      bytes_(config.bytes(), '\0'),
      ids_(config.pixels(), 0) {}

int BoardImage::Color(int x, int y) const {
  size_t i = Index(x, y);
  auto byte = static_cast<unsigned char>(bytes_[i / 2]);
  return i % 2 == 0 ? byte >> 4 : byte & 0x0f;
}

void BoardImage::Apply(const PixelPlacement& p) {
  if (p.x < 0 || p.x >= width_ || p.y < 0 || p.y >= height_ || p.color < 0 || p.color >= colors_) {
    ++off_board_;
    return;
  }
  size_t i = Index(p.x, p.y);
  if (p.id <= ids_[i]) return;
  ids_[i] = p.id;
  auto& byte = reinterpret_cast<unsigned char&>(bytes_[i / 2]);
  byte = i % 2 == 0 ? static_cast<unsigned char>((byte & 0x0f) | (p.color << 4))
                    : static_cast<unsigned char>((byte & 0xf0) | p.color);
}

namespace {

// The highest id stamped at or before `at_ms`: ids begin with their millisecond (message_id.h), so
// the scan can end at the end of a primary key range instead of filtering the rest of the table.
int64_t MaxIdAt(int64_t at_ms) {
  constexpr int kShift = MessageIdGenerator::kInstanceBits + MessageIdGenerator::kSequenceBits;
  const int64_t epoch = static_cast<int64_t>(MessageIdGenerator::kEpochMs);
  if (at_ms < epoch) return 0;
  const int64_t next_ms = at_ms - epoch + 1;
  if (next_ms >= (int64_t{1} << (63 - kShift))) return std::numeric_limits<int64_t>::max();
  return (next_ms << kShift) - 1;
}

// placed_at is the id's time (storage/board_store.cc writes it so); the id bound only lets the scan stop
// early. Times travel as ms counts, never as floating seconds.
constexpr const char* kDeclareSql =
    "DECLARE board_scan NO SCROLL CURSOR FOR "
    "SELECT id, user_id, x, y, color, floor(extract(epoch FROM placed_at) * 1000)::bigint "
    "FROM board_placements "
    "WHERE id <= $1 AND placed_at <= 'epoch'::timestamptz + $2::bigint * interval '1 millisecond' "
    "ORDER BY id";

Status FetchAll(PgConn& pg, const std::function<Status(const PixelPlacement&)>& each) {
  const std::string fetch = "FETCH " + std::to_string(kBoardScanBatch) + " FROM board_scan";
  for (;;) {
    auto rows = pg.Exec(fetch.c_str());
    if (!rows.ok()) return rows.status();
    for (int r = 0; r < rows->rows(); ++r) {
      PixelPlacement p;
      p.id = static_cast<uint64_t>(rows->Int(r, 0));
      p.user = rows->Int(r, 1);
      p.x = static_cast<int>(rows->Int(r, 2));
      p.y = static_cast<int>(rows->Int(r, 3));
      p.color = static_cast<int>(rows->Int(r, 4));
      p.ts_ms = rows->Int(r, 5);
      if (Status s = each(p); !s.ok()) return s;
    }
    if (rows->rows() < kBoardScanBatch) return Status::Ok();
  }
}

}  // namespace

Status ScanPlacements(PgConn& pg, int64_t at_ms, const std::function<Status(const PixelPlacement&)>& each) {
  if (Status s = pg.ExecScript("BEGIN READ ONLY"); !s.ok()) return s;
  auto declared = pg.Exec(kDeclareSql, {std::to_string(MaxIdAt(at_ms)), std::to_string(at_ms)});
  Status s = declared.ok() ? FetchAll(pg, each) : declared.status();
  if (!s.ok()) {
    (void)pg.ExecScript("ROLLBACK");  // the scan's error is the one to report
    return s;
  }
  return pg.ExecScript("COMMIT");
}

Result<std::optional<int64_t>> FirstPlacementMs(PgConn& pg) {
  auto r = pg.Exec(
      "SELECT floor(extract(epoch FROM placed_at) * 1000)::bigint FROM board_placements ORDER BY id LIMIT 1");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(r->Int(0, 0));
}

Result<BoardImage> BoardAt(PgConn& pg, const BoardConfig& config, int64_t at_ms) {
  BoardImage image(config);
  Status s = ScanPlacements(pg, at_ms, [&image](const PixelPlacement& p) {
    image.Apply(p);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return image;
}

}  // namespace chatpipe
