// PairFilter: which pairs of word ids may open a phrase (a word and the word after it), a bit per
// hashed pair. Common words start dozens of phrases ("te" seventy, "qué" forty), and a token that
// starts some had every one of them read to find that none goes on with the word after it; the filter
// says so in one load from 4 KiB that stay in the L1 cache. It may answer yes wrongly (the shipped
// lists' thousand-odd pairs in 32,768 bits: about one pair in thirty), never no wrongly, so the phrases
// it lets through are read as before and what matches is the same. Built while the lexicons load, then
// only read. Owns no memory beyond itself.
#pragma once

#include <array>
#include <cstdint>

namespace chatpipe::analysis {

class PairFilter {
 public:
  void Add(int first, int second) {
    const uint32_t b = Bit(first, second);
    bits_[b / 64] |= uint64_t{1} << (b % 64);
  }
  bool MayHave(int first, int second) const {
    const uint32_t b = Bit(first, second);
    return bits_[b / 64] >> (b % 64) & 1;
  }

 private:
  static constexpr int kBits = 15;
  static uint32_t Bit(int first, int second) {
    const uint64_t key = uint64_t{static_cast<uint32_t>(first)} << 32 | static_cast<uint32_t>(second);
    return static_cast<uint32_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - kBits));
  }
  std::array<uint64_t, (1 << kBits) / 64> bits_{};
};

}  // namespace chatpipe::analysis
