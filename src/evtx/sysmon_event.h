// Sysmon records -> typed events: what `recorder replay` stores from a
// Windows event log. A pure mapping of one EvtxRecord (evtx_reader.h); the
// store links the events to processes by ProcessGuid (TypedEvent::windows).
//
//   1 process create   -> ProcessStart (argv split from CommandLine)
//   5 process end      -> ProcessEnd (Sysmon gives no exit code)
//   3 network          -> NetworkEvent (Initiated: outbound, else inbound)
//   6 driver load      -> ModuleEvent load, of the System process (pid 4)
//   7 image load       -> ImageLoadEvent
//   11 file create     -> FileEvent create; 23, 26 file delete -> delete
//   12, 13, 14         -> RegistryEvent
//   22 DNS query       -> DnsEvent
// Other Sysmon event ids are not mapped (counted by the caller); records
// of other providers (Security, PowerShell...) are not Sysmon's.
// docs/schema.md ("Windows evidence") lists the field of every column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "evtx/evtx_reader.h"
#include "normalize/typed_event.h"

namespace recorder::evtx {

inline constexpr std::string_view kSysmonProvider = "Microsoft-Windows-Sysmon";

enum class SysmonMapping : uint8_t {
  kMapped,        // *out holds the event
  kOtherChannel,  // not a Sysmon record
  kUnmapped,      // a Sysmon event id the recorder does not store
};

// Fills *out (every field set, nothing left from an earlier use) when the
// record maps; leaves it unspecified otherwise.
SysmonMapping MapSysmonRecord(const EvtxRecord& record, TypedEvent* out);

// A Windows command line split into arguments by the rules of
// CommandLineToArgvW: white space separates, double quotes group, 2n
// backslashes before a quote are n and the quote is special, 2n+1 are n
// and a literal quote; other backslashes are literal.
std::vector<std::string> SplitWindowsCommandLine(std::string_view line);

// Sysmon's Hashes field ("SHA1=..,MD5=..,SHA256=..,IMPHASH=.."), each
// lower-cased; empty when absent.
struct SysmonHashes {
  std::string sha1, md5, sha256, imphash;
};
SysmonHashes ParseSysmonHashes(std::string_view hashes);

// Sysmon's UtcTime ("2017-12-26 13:10:29.134") in Unix ms; -1 when it
// does not parse.
int64_t ParseSysmonUtcTime(std::string_view text);

// A record's values as a JSON object by name (unnamed ones as "value<N>").
std::string EventDataJson(const EvtxRecord& record);

}  // namespace recorder::evtx
