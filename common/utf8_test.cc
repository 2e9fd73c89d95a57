#include "common/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace chatpipe {
namespace {

// Encodes any value up to 0x10FFFF the way a naive encoder would, surrogates included.
std::string Encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | cp >> 6);
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | cp >> 12);
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | cp >> 18);
    s += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// A slow validator written from the definition (decode, then check the value), to compare against.
bool ReferenceValid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char b = s[i];
    int len;
    uint32_t cp;
    if (b < 0x80) { len = 1; cp = b; }
    else if ((b & 0xE0) == 0xC0) { len = 2; cp = b & 0x1F; }
    else if ((b & 0xF0) == 0xE0) { len = 3; cp = b & 0x0F; }
    else if ((b & 0xF8) == 0xF0) { len = 4; cp = b & 0x07; }
    else return false;
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const unsigned char c = s[i + k];
      if ((c & 0xC0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

TEST(Utf8, AcceptsAscii) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("hello, world: a line long enough for the 8-byte path"));
  EXPECT_TRUE(IsValidUtf8(std::string("\0\x7f", 2)));
}

TEST(Utf8, AcceptsEveryScalarValue) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    ASSERT_TRUE(IsValidUtf8(Encode(cp))) << std::hex << cp;
  }
}

TEST(Utf8, RejectsSurrogates) {
  for (uint32_t cp = 0xD800; cp <= 0xDFFF; ++cp) ASSERT_FALSE(IsValidUtf8(Encode(cp))) << std::hex << cp;
}

TEST(Utf8, RejectsOverlongs) {
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // NUL in two bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));          // U+007F in two bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\x80"));      // NUL in three bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in three bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\x80"));  // NUL in four bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));       // U+0800, the smallest 3-byte value
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));   // U+10000, the smallest 4-byte value
}

TEST(Utf8, RejectsAboveMaximum) {
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xFE"));
}

TEST(Utf8, RejectsBrokenSequences) {
  EXPECT_FALSE(IsValidUtf8("\x80"));                // continuation without a lead
  EXPECT_FALSE(IsValidUtf8("abc\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));                // truncated at the end
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x82" "A"));        // lead interrupted by ASCII
  EXPECT_FALSE(IsValidUtf8("\xC3\xA9\xA9"));        // one continuation too many
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // café € 😀
}

TEST(Utf8, BadByteAfterLongAsciiRun) {
  std::string s(1000, 'a');
  EXPECT_TRUE(IsValidUtf8(s));
  for (size_t pos : {0u, 7u, 8u, 9u, 500u, 999u}) {
    std::string t = s;
    t[pos] = '\xFF';
    EXPECT_FALSE(IsValidUtf8(t)) << pos;
  }
}

TEST(Utf8, AgreesWithReferenceOnAllTwoAndThreeByteInputs) {
  char buf[3];
  for (int a = 0; a < 256; ++a) {
    buf[0] = static_cast<char>(a);
    for (int b = 0; b < 256; ++b) {
      buf[1] = static_cast<char>(b);
      ASSERT_EQ(IsValidUtf8({buf, 2}), ReferenceValid({buf, 2})) << a << " " << b;
      for (int c = 0x7E; c < 0xC2; ++c) {  // the interesting third bytes: ASCII edge and continuations
        buf[2] = static_cast<char>(c);
        ASSERT_EQ(IsValidUtf8({buf, 3}), ReferenceValid({buf, 3})) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8, AgreesWithReferenceOnRandomInput) {
  std::mt19937 rng(42);
  // Bias the bytes towards lead and continuation values so that valid strings show up too.
  const std::string alphabet = "aZ\x7F\x80\x8F\x90\x9F\xA0\xBF\xC0\xC2\xDF\xE0\xE1\xED\xEF\xF0\xF4\xF5";
  int valid = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    std::string s(rng() % 12, '\0');
    for (char& ch : s) ch = alphabet[rng() % alphabet.size()];
    const bool expected = ReferenceValid(s);
    valid += expected;
    ASSERT_EQ(IsValidUtf8(s), expected) << testing::PrintToString(s);
  }
  EXPECT_GT(valid, 1000);  // the comparison covered both outcomes
}

TEST(Utf8, StreamingMatchesWholeAtEverySplit) {
  const std::string good = "x\xC3\xA9y\xE2\x82\xAC\xF0\x9F\x98\x80z";
  const std::string bad = "x\xC3\xA9y\xE2\x82\xF0\x9F\x98\x80z";
  for (size_t split = 0; split <= good.size(); ++split) {
    Utf8Validator v;
    EXPECT_TRUE(v.Feed(std::string_view(good).substr(0, split)));
    EXPECT_TRUE(v.Feed(std::string_view(good).substr(split)));
    EXPECT_TRUE(v.Complete()) << split;
  }
  for (size_t split = 0; split <= bad.size(); ++split) {
    Utf8Validator v;
    bool ok = v.Feed(std::string_view(bad).substr(0, split));
    ok = v.Feed(std::string_view(bad).substr(split)) && ok;
    EXPECT_FALSE(ok && v.Complete()) << split;
  }
}

TEST(Utf8, StreamingReportsIncompleteAndStaysFailed) {
  Utf8Validator v;
  EXPECT_TRUE(v.Feed("\xF0\x9F"));
  EXPECT_FALSE(v.Complete());  // mid-character
  EXPECT_TRUE(v.Feed("\x98\x80"));
  EXPECT_TRUE(v.Complete());
  EXPECT_FALSE(v.Feed("\xC0"));
  EXPECT_FALSE(v.Feed("abc"));  // sticky
  EXPECT_FALSE(v.Complete());
  v.Reset();
  EXPECT_TRUE(v.Feed("abc"));
  EXPECT_TRUE(v.Complete());
}

TEST(Utf8Decode, EveryScalarValueRoundTrips) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string s = Encode(cp);
    const Utf8Char c = DecodeUtf8(s, 0);
    ASSERT_EQ(c.cp, cp);
    ASSERT_EQ(c.len, s.size());
    ASSERT_TRUE(c.valid());
  }
}

TEST(Utf8Decode, MalformedBytesAreCharactersOfOneByte) {
  for (const std::string s : {"\x80", "\xC3", "\xC0\x80", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"}) {
    const Utf8Char c = DecodeUtf8(s, 0);
    EXPECT_EQ(c.len, 1u) << s.size();
    EXPECT_EQ(c.cp, static_cast<unsigned char>(s[0]));
    EXPECT_FALSE(c.valid());
  }
}

// Decoding character by character accepts exactly what the validator accepts.
TEST(Utf8Decode, AgreesWithTheValidatorOnRandomInput) {
  std::mt19937 rng(7);
  const char pieces[][5] = {"a", "\xC3\xB1", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\x80", "\xC3", "\xED\xA0\x80", "\xFF"};
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    for (int k = rng() % 6; k > 0; --k) s += pieces[rng() % 8];
    bool all_valid = true;
    for (size_t i = 0; i < s.size();) {
      const Utf8Char c = DecodeUtf8(s, i);
      all_valid &= c.valid();
      i += c.len;
    }
    ASSERT_EQ(all_valid, IsValidUtf8(s)) << s;
  }
}

TEST(Utf8Decode, ReplaceInvalidKeepsValidTextAndMarksEachBadByte) {
  EXPECT_EQ(ReplaceInvalidUtf8("ol\xC3\xA1 \xF0\x9F\x98\x80"), "ol\xC3\xA1 \xF0\x9F\x98\x80");
  EXPECT_EQ(ReplaceInvalidUtf8("a\xFF\xC3"), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace chatpipe
