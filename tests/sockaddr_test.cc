#include "normalize/sockaddr.h"

#include <gtest/gtest.h>

#include "normalize/event_codes.h"

namespace recorder {
namespace {

TEST(SockaddrTest, Ipv4PortIsBigEndianAddressBytesFourToSeven) {
  // AF_INET (02 00 little-endian), port 0x1F90 = 8080, 10.1.2.3, 8 bytes zero.
  auto a = DecodeSockaddr("02001F900A0102030000000000000000");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->family, AddressFamily::kInet);
  EXPECT_EQ(a->address, "10.1.2.3");
  EXPECT_EQ(a->port, 8080);
  // A port whose bytes read differently little-endian: 0x0050 = 80, not 20480.
  auto b = DecodeSockaddr("020000507F000001");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 80);
  EXPECT_EQ(b->address, "127.0.0.1");
}

TEST(SockaddrTest, Ipv6UsesBytesEightToTwentyThree) {
  // AF_INET6 = 10 (0A00), port 0xDB45 = 56133, flowinfo 0, ::1, scope 0.
  auto a = DecodeSockaddr("0A00DB4500000000000000000000000000000000000000010000000000");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->family, AddressFamily::kInet6);
  EXPECT_EQ(a->address, "::1");
  EXPECT_EQ(a->port, 56133);
  auto b = DecodeSockaddr("0A0000500000000020010DB8000000000000000000000042");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->address, "2001:db8::42");
  EXPECT_EQ(b->port, 80);
}

TEST(SockaddrTest, UnixPathAbstractAndUnnamed) {
  // "/run/x.sock" then NUL padding.
  auto path = DecodeSockaddr("01002F72756E2F782E736F636B000000");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->family, AddressFamily::kUnix);
  EXPECT_EQ(path->address, "/run/x.sock");
  EXPECT_EQ(path->port, -1);
  // Abstract: leading NUL, then "abc".
  auto abstract = DecodeSockaddr("010000616263");
  ASSERT_TRUE(abstract.ok());
  EXPECT_EQ(abstract->address, "@abc");
  auto unnamed = DecodeSockaddr("0100");
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->family, AddressFamily::kUnix);
  EXPECT_EQ(unnamed->address, "");
}

TEST(SockaddrTest, OtherFamiliesAreReportedAsOther) {
  auto netlink = DecodeSockaddr("100000000000000000000000");  // AF_NETLINK = 16
  ASSERT_TRUE(netlink.ok());
  EXPECT_EQ(netlink->family, AddressFamily::kOther);
  EXPECT_EQ(netlink->raw_family, 16);
  EXPECT_EQ(Name(netlink->family), "");
  EXPECT_EQ(Name(AddressFamily::kInet6), "ipv6");
}

TEST(SockaddrTest, MalformedInputIsAnError) {
  EXPECT_FALSE(DecodeSockaddr("").ok());
  EXPECT_FALSE(DecodeSockaddr("02").ok());
  EXPECT_FALSE(DecodeSockaddr("zz00").ok());
  EXPECT_FALSE(DecodeSockaddr("0200005").ok());         // odd length
  EXPECT_FALSE(DecodeSockaddr("020000507F00").ok());    // AF_INET cut short
  EXPECT_FALSE(DecodeSockaddr("0A000050000000").ok());  // AF_INET6 cut short
}

}  // namespace
}  // namespace recorder
