// StackTest: the GoogleTest fixture of tests that run on a TestStack of their own.
//
// SetUp creates `stack`, and starts ingress (and the persister) when the derived fixture's constructor
// asks for it; the fixture owns the stack, whose destructor stops what the test started and drops its
// database. A derived fixture that does more in its own SetUp calls StackTest::SetUp() first and
// returns if it failed (`if (HasFatalFailure()) return;`).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/support/stack.h"

namespace chatpipe::test {

class StackTest : public ::testing::Test {
 protected:
  // What SetUp starts on the new stack, for fixtures whose every test needs it running.
  enum class Start { kNothing, kIngress, kIngressAndPersister };
  explicit StackTest(Start start = Start::kNothing) : start_(start) {}

  void SetUp() override {
    auto s = TestStack::Create();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    stack = std::move(*s);
    if (start_ == Start::kNothing) return;
    Status ingress = stack->StartIngress();
    ASSERT_TRUE(ingress.ok()) << ingress.ToString();
    if (start_ == Start::kIngress) return;
    Status persister = stack->StartPersister();
    ASSERT_TRUE(persister.ok()) << persister.ToString();
  }

  // Registers `user` and creates the public room `room_name` as them, on the running ingress: the
  // owner and the room's id go to *owner and *room. For ASSERT_TRUE, which then shows what failed.
  ::testing::AssertionResult RegisterWithRoom(const std::string& user, const std::string& room_name,
                                              TestUser* owner, int64_t* room) {
    auto u = stack->Register(user);
    if (!u.ok()) return ::testing::AssertionFailure() << "register " << user << ": " << u.status().ToString();
    auto r = stack->CreateRoom(*u, room_name);
    if (!r.ok()) return ::testing::AssertionFailure() << "create room " << room_name << ": " << r.status().ToString();
    *owner = *u;
    *room = *r;
    return ::testing::AssertionSuccess();
  }

  std::unique_ptr<TestStack> stack;

 private:
  const Start start_;
};

}  // namespace chatpipe::test
