// A placement is read the same from an HTTP body and a WebSocket frame (ReadPlacement): every member
// an integer, the pixel on the board and its colour in the palette, refused with the code a client sees.
#include "ingress/board_api.h"

#include <gtest/gtest.h>

#include "ingress/json_input.h"

namespace chatpipe {
namespace {

Result<PixelPlacement> Read(const char* json, const BoardConfig& board = {}) {
  rapidjson::Document doc;
  if (Status s = ParseObject(json, {"type", "x", "y", "color", "client_msg_id"}, &doc); !s.ok()) return s;
  return ReadPlacement(doc, board, 7);
}

TEST(ReadPlacement, APixelOnTheBoardIsTheUsersPlacement) {
  auto p = Read(R"({"type":"place","x":999,"y":0,"color":15,"client_msg_id":"c-1"})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->user, 7);
  EXPECT_EQ(p->x, 999);
  EXPECT_EQ(p->y, 0);
  EXPECT_EQ(p->color, 15);
  EXPECT_EQ(p->id, 0u);  // stamped on the way to Kafka, not here
}

TEST(ReadPlacement, AMissingOrNonIntegerMemberIsABadField) {
  for (const char* json : {R"({"x":1,"y":1})", R"({"x":1,"color":1})", R"({"y":1,"color":1})",
                           R"({"x":1,"y":1,"color":"red"})", R"({"x":1.5,"y":1,"color":1})",
                           R"({"x":1,"y":null,"color":1})", R"({"x":true,"y":1,"color":1})"}) {
    auto p = Read(json);
    ASSERT_FALSE(p.ok()) << json;
    EXPECT_EQ(p.status().name(), "bad_field") << json;
  }
}

TEST(ReadPlacement, OffTheBoardOrThePaletteIsABadPixelOfThatBoard) {
  BoardConfig small;
  small.width = 16;
  small.height = 8;
  small.palette = {"#ffffff", "#000000"};
  for (const char* json : {R"({"x":16,"y":0,"color":1})", R"({"x":0,"y":8,"color":1})", R"({"x":-1,"y":0,"color":1})",
                           R"({"x":0,"y":0,"color":2})", R"({"x":0,"y":0,"color":-1})",
                           R"({"x":4294967296,"y":0,"color":1})", R"({"x":0,"y":0,"color":99999999999})"}) {
    auto p = Read(json, small);
    ASSERT_FALSE(p.ok()) << json;
    EXPECT_EQ(p.status().name(), "bad_pixel") << json;
  }
  auto corner = Read(R"({"x":15,"y":7,"color":1})", small);
  ASSERT_TRUE(corner.ok());
  EXPECT_EQ(corner->x, 15);
  EXPECT_EQ(corner->y, 7);
}

}  // namespace
}  // namespace chatpipe
