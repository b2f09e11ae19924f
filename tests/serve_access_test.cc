// recorder serve's access policy as pure functions: listen addresses and
// which are loopback, the token chosen for each, the constant-time token
// comparison, where a request may carry the token, the Host check, and
// the start message (what `--listen 0.0.0.0` prints).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "serve/access_policy.h"

namespace recorder::serve {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kRandom(32, '\x5a');

ListenAddress Listen(std::string_view text) {
  Result<ListenAddress> listen = ParseListenAddress(text);
  EXPECT_TRUE(listen.ok()) << text << ": " << listen.status().message();
  return listen.ok() ? *listen : ListenAddress{};
}

TEST(ServeAccessTest, ListenAddressesAndLoopback) {
  ListenAddress v4 = Listen("127.0.0.1:8765");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 8765);
  EXPECT_TRUE(v4.loopback);
  EXPECT_TRUE(Listen("127.0.0.2:0").loopback);
  EXPECT_TRUE(Listen("[::1]:8765").loopback);
  EXPECT_EQ(Listen("[::1]:8765").host, "::1");
  EXPECT_FALSE(Listen("0.0.0.0:8765").loopback);
  EXPECT_FALSE(Listen("[::]:8765").loopback);
  EXPECT_FALSE(Listen("192.168.1.10:80").loopback);
  EXPECT_FALSE(Listen("[::ffff:127.0.0.1]:80").loopback);  // a mapped address is not ::1
}

TEST(ServeAccessTest, BadListenAddressesAreRefusedWithTheReason) {
  for (const char* text :
       {"localhost:8765", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:80x", "::1:8765", "[127.0.0.1]:80", "example.com:80", ":8765"}) {
    Result<ListenAddress> listen = ParseListenAddress(text);
    ASSERT_FALSE(listen.ok()) << text;
    EXPECT_EQ(listen.status().code(), StatusCode::kInvalid);
    EXPECT_THAT(listen.status().message(), HasSubstr(std::string("'") + text + "'"));
  }
}

TEST(ServeAccessTest, ATokenIsGeneratedOnLoopbackAndElsewhere) {
  for (const char* where : {"127.0.0.1:8765", "0.0.0.0:8765", "[::]:1"}) {
    Result<TokenChoice> choice = ChooseToken(Listen(where), "", false, kRandom);
    ASSERT_TRUE(choice.ok()) << where;
    EXPECT_TRUE(choice->generated);
    std::string hex;
    for (int i = 0; i < 32; ++i) hex += "5a";
    EXPECT_EQ(choice->token, hex);  // the random bytes in hex
  }
  EXPECT_FALSE(ChooseToken(Listen("127.0.0.1:1"), "", false, "short").ok());
}

TEST(ServeAccessTest, AGivenTokenIsKeptIfLongEnough) {
  Result<TokenChoice> given = ChooseToken(Listen("0.0.0.0:1"), "0123456789abcdef", false, "");
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->token, "0123456789abcdef");
  EXPECT_FALSE(given->generated);
  Result<TokenChoice> short_token = ChooseToken(Listen("127.0.0.1:1"), "secret", false, kRandom);
  ASSERT_FALSE(short_token.ok());
  EXPECT_EQ(short_token.status().code(), StatusCode::kInvalid);
  EXPECT_THAT(short_token.status().message(), HasSubstr("too short"));
}

TEST(ServeAccessTest, NoTokenOnlyOnLoopback) {
  Result<TokenChoice> loopback = ChooseToken(Listen("127.0.0.1:1"), "", true, "");
  ASSERT_TRUE(loopback.ok());
  EXPECT_EQ(loopback->token, "");
  for (const char* where : {"0.0.0.0:1", "[::]:1", "10.0.0.1:1"}) {
    Result<TokenChoice> refused = ChooseToken(Listen(where), "", true, "");
    ASSERT_FALSE(refused.ok()) << where;
    EXPECT_THAT(refused.status().message(), HasSubstr("loopback"));
  }
  EXPECT_FALSE(ChooseToken(Listen("127.0.0.1:1"), "0123456789abcdef", true, "").ok());
}

TEST(ServeAccessTest, RandomBytesDiffer) {
  Result<std::string> a = RandomBytes(), b = RandomBytes();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
}

TEST(ServeAccessTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("0123456789abcdef", "0123456789abcdef"));
  EXPECT_FALSE(ConstantTimeEquals("0123456789abcdeF", "0123456789abcdef"));
  EXPECT_FALSE(ConstantTimeEquals("0123456789abcde", "0123456789abcdef"));
  EXPECT_FALSE(ConstantTimeEquals("0123456789abcdef0", "0123456789abcdef"));
  EXPECT_FALSE(ConstantTimeEquals("", "0123456789abcdef"));
  // A prefix padded with NULs is not the token either.
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), "ab"));
}

TEST(ServeAccessTest, TheTokenComesInABearerHeaderOrThePortsCookie) {
  const std::string token = "0123456789abcdef";
  EXPECT_TRUE(RequestCarriesToken(token, "Bearer " + token, "", 8765));
  EXPECT_TRUE(RequestCarriesToken(token, "bearer  " + token + " ", "", 8765));
  EXPECT_TRUE(RequestCarriesToken(token, "", "a=1; recorder_token_8765=" + token + "; b=2", 8765));
  EXPECT_FALSE(RequestCarriesToken(token, "", "recorder_token_8766=" + token, 8765));
  EXPECT_FALSE(RequestCarriesToken(token, "Basic " + token, "", 8765));
  EXPECT_FALSE(RequestCarriesToken(token, "Bearer wrong", "x=" + token, 8765));
  EXPECT_FALSE(RequestCarriesToken(token, "", "", 8765));
  EXPECT_TRUE(RequestCarriesToken("", "", "", 8765));  // --no-token
  EXPECT_EQ(CookieValue(" a = 1 ;b=2", "a"), "1");
  EXPECT_EQ(CookieValue("ab=1", "a"), "");
  EXPECT_EQ(BearerToken("Bearer"), "");
}

TEST(ServeAccessTest, OnLoopbackTheHostHeaderMustNameThisServer) {
  const ListenAddress v4 = Listen("127.0.0.1:0"), v6 = Listen("[::1]:0");
  EXPECT_TRUE(HostAllowed("127.0.0.1:4242", v4, 4242));
  EXPECT_TRUE(HostAllowed("localhost:4242", v4, 4242));
  EXPECT_TRUE(HostAllowed("[::1]:4242", v6, 4242));
  EXPECT_FALSE(HostAllowed("127.0.0.1:4243", v4, 4242));
  EXPECT_FALSE(HostAllowed("evil.example:4242", v4, 4242));  // DNS rebinding
  EXPECT_FALSE(HostAllowed("", v4, 4242));
  EXPECT_TRUE(HostAllowed("localhost", v4, 80));
  EXPECT_TRUE(HostAllowed("recorder.example.org:8765", Listen("0.0.0.0:8765"), 8765));
}

TEST(ServeAccessTest, StartMessageOffLoopbackPrintsTheGeneratedTokenAndWarns) {
  const TokenChoice generated{"feedfacefeedfacefeedfacefeedface", true};
  const std::string any = StartMessage(Listen("0.0.0.0:8765"), 8765, generated);
  EXPECT_THAT(any, HasSubstr("listening on 0.0.0.0:8765 (every address of this machine): "
                             "other machines can connect"));
  EXPECT_THAT(any, HasSubstr("token feedfacefeedfacefeedfacefeedface\n"));
  EXPECT_THAT(any, HasSubstr("open http://THIS-HOST:8765/?token=feedface"));

  const std::string local = StartMessage(Listen("127.0.0.1:0"), 4242, generated);
  EXPECT_THAT(local, HasSubstr("open http://127.0.0.1:4242/?token=feedfacefeedface"));
  EXPECT_THAT(local, Not(HasSubstr("other machines")));

  const TokenChoice given{"my-own-token-0123", false};
  const std::string mine = StartMessage(Listen("[::1]:1"), 1, given);
  EXPECT_THAT(mine, Not(HasSubstr("my-own-token")));
  EXPECT_THAT(mine, HasSubstr("open http://[::1]:1/?token=<your --token>"));

  EXPECT_THAT(StartMessage(Listen("127.0.0.1:1"), 1, TokenChoice{}),
              HasSubstr("no token: anyone on this machine can read the database"));
}

}  // namespace
}  // namespace recorder::serve
