#include "ingress/routes.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(Routes, KnownPathsNameTheirMethods) {
  EXPECT_EQ(AllowedMethods("/api/rooms"), "GET, POST");
  EXPECT_EQ(AllowedMethods("/api/sessions"), "POST, DELETE");
  EXPECT_EQ(AllowedMethods("/api/rooms/12"), "GET");
  EXPECT_EQ(AllowedMethods("/api/rooms/12/messages"), "GET, POST");
  EXPECT_EQ(AllowedMethods("/api/rooms/12/members"), "POST");
  EXPECT_EQ(AllowedMethods("/api/rooms/12/stats"), "GET");
  EXPECT_EQ(AllowedMethods("/api/mentions/7/read"), "POST");
  EXPECT_EQ(AllowedMethods("/ws"), "GET");
  EXPECT_EQ(AllowedMethods("/api/rooms/12/uploads"), "POST");
  EXPECT_EQ(AllowedMethods("/api/rooms/12/objects/abc"), "GET");  // the key's shape is the route's to check
  EXPECT_EQ(AllowedMethods("/api/messages/99/speech"), "POST");
}

TEST(Routes, UnknownApiPathsHaveNoMethods) {
  EXPECT_EQ(AllowedMethods("/api/rooms/1/statistics"), "");
  EXPECT_EQ(AllowedMethods("/api/rooms/0/messages"), "");
  EXPECT_EQ(AllowedMethods("/api/rooms/x/messages"), "");
  EXPECT_EQ(AllowedMethods("/api/rooms/1/messages/2"), "");
  EXPECT_EQ(AllowedMethods("/api/rooms/1/"), "");
  EXPECT_EQ(AllowedMethods("/api/mentions/x/read"), "");
  EXPECT_EQ(AllowedMethods("/api/mentions//read"), "");
  EXPECT_EQ(AllowedMethods("/api/nothing"), "");
  EXPECT_EQ(AllowedMethods("/api"), "");
  EXPECT_EQ(AllowedMethods("/api/messages/x/speech"), "");
  EXPECT_EQ(AllowedMethods("/api/messages//speech"), "");
  EXPECT_EQ(AllowedMethods("/api/messages/1/speeches"), "");
}

TEST(Routes, EverythingElseIsTheWebClient) {
  EXPECT_EQ(AllowedMethods("/"), "GET, HEAD");
  EXPECT_EQ(AllowedMethods("/rooms/3"), "GET, HEAD");
  EXPECT_EQ(AllowedMethods("/apix"), "GET, HEAD");
}

TEST(Routes, MethodAllowedMatchesWholeMethods) {
  EXPECT_TRUE(MethodAllowed("GET, POST", "POST"));
  EXPECT_TRUE(MethodAllowed("GET, POST", "GET"));
  EXPECT_FALSE(MethodAllowed("GET, POST", "PUT"));
  EXPECT_FALSE(MethodAllowed("GET, POST", "GE"));
  EXPECT_FALSE(MethodAllowed("GET, POST", "get"));
  EXPECT_FALSE(MethodAllowed("", "GET"));
}

TEST(Routes, ParseRoomPath) {
  std::string what;
  EXPECT_EQ(ParseRoomPath("/api/rooms/42/messages", &what), 42);
  EXPECT_EQ(what, "messages");
  EXPECT_EQ(ParseRoomPath("/api/rooms/42", &what), 42);
  EXPECT_EQ(what, "") << "the room itself";
  EXPECT_EQ(ParseRoomPath("/api/rooms/42/", &what), 0);
  EXPECT_EQ(ParseRoomPath("/api/rooms/42x", &what), 0);
  EXPECT_EQ(ParseRoomPath("/api/rooms/-1/messages", &what), 0);
}

TEST(Routes, ParseSpeechPath) {
  EXPECT_EQ(ParseSpeechPath("/api/messages/18446744073709551557/speech"), 18446744073709551557ULL);
  EXPECT_EQ(ParseSpeechPath("/api/messages/-1/speech"), 0u);
  EXPECT_EQ(ParseSpeechPath("/api/messages/1/2/speech"), 0u);
}

TEST(Routes, PixelPathsAndTheBoardsMethods) {
  int x = -5, y = -5;
  EXPECT_TRUE(ParsePixelPath("/api/board/pixels/12/999", &x, &y));
  EXPECT_EQ(x, 12);
  EXPECT_EQ(y, 999);
  EXPECT_TRUE(ParsePixelPath("/api/board/pixels/-1/0", &x, &y));  // a shape the route answers 404
  EXPECT_EQ(x, -1);
  for (const char* bad : {"/api/board/pixels/1", "/api/board/pixels/1/", "/api/board/pixels//1", "/api/board/pixels/1/2/3",
                          "/api/board/pixels/a/1", "/api/board/pixels/1/2x", "/api/board/pixels/99999999999/1"})
    EXPECT_FALSE(ParsePixelPath(bad, &x, &y)) << bad;
  EXPECT_EQ(AllowedMethods("/api/board/pixels/1/2"), "GET");
  EXPECT_EQ(AllowedMethods("/api/board/pixels"), "PUT");
  EXPECT_EQ(AllowedMethods("/api/board"), "GET");
  EXPECT_EQ(AllowedMethods("/api/board/meta"), "GET");
  EXPECT_EQ(AllowedMethods("/api/board/pixels/1/2/3"), "");
}

}  // namespace
}  // namespace chatpipe
