#include "cli/replay_summary.h"

#include <fmt/format.h>

namespace recorder::cli {
namespace {

using ull = unsigned long long;

// "2 process, 1 network": the counts that are not zero, each with its
// name (`name(i)` for counts[i]).
template <typename Counts, typename Name>
std::string NonZeroCounts(const Counts& counts, Name name) {
  std::string out;
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i]) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", counts[i], name(i));
  return out;
}

// " (LIST)", or nothing for an empty list.
std::string InParentheses(const std::string& list) {
  return list.empty() ? std::string() : " (" + list + ")";
}

}  // namespace

void PrintReplaySummary(const ReplaySummary& s, std::FILE* out) {
  const store::StoreCounters& c = s.stored;
  std::fprintf(out, "replayed %zu input(s) into %s: %llu lines, %.1f MB in %.2f s\n", s.inputs,
               s.db.c_str(), static_cast<ull>(s.run.lines), s.run.bytes / 1e6, s.seconds);
  std::fprintf(out,
               "stored %llu events (%.0f events/s): %llu process starts, %llu process ends, "
               "%llu file, %llu network, %llu security, %llu module, %llu failed exec\n",
               static_cast<ull>(c.stored()), s.seconds > 0 ? c.stored() / s.seconds : 0.0,
               static_cast<ull>(c.process_starts), static_cast<ull>(c.process_ends),
               static_cast<ull>(c.file_events), static_cast<ull>(c.network_events),
               static_cast<ull>(c.security_events), static_cast<ull>(c.module_events),
               static_cast<ull>(c.failed_execs));
  std::fprintf(out,
               "skipped %llu audit events already stored; %llu placeholder processes; "
               "%llu audit events with nothing to store\n",
               static_cast<ull>(c.duplicates), static_cast<ull>(c.placeholder_processes),
               static_cast<ull>(s.run.ignored_events));
  if (s.filtered) {
    const std::string by_type = NonZeroCounts(s.filtered->dropped, [](size_t t) {
      return filter::EventTypeName(static_cast<filter::EventType>(t));
    });
    std::fprintf(out, "filtered out %llu events%s\n", static_cast<ull>(s.filtered->total_dropped()),
                 InParentheses(by_type).c_str());
  }
  if (s.evtx.records > 0)
    std::fprintf(out,
                 "Windows event logs: %llu records, %llu Sysmon events stored or already stored "
                 "(%llu registry changes stored), %llu Sysmon events of ids not mapped, %llu "
                 "records of other channels skipped, %llu damaged\n",
                 static_cast<ull>(s.evtx.records), static_cast<ull>(s.evtx.sysmon),
                 static_cast<ull>(c.registry_events), static_cast<ull>(s.evtx.unmapped),
                 static_cast<ull>(s.evtx.other_channel), static_cast<ull>(s.evtx.problems));
  if (s.bsm.records > 0 || s.bsm.problems > 0)
    std::fprintf(out,
                 "BSM audit trails: %llu records, %llu mapped to events (stored or already "
                 "stored), %llu of events not mapped, %llu damaged\n",
                 static_cast<ull>(s.bsm.records), static_cast<ull>(s.bsm.mapped),
                 static_cast<ull>(s.bsm.unmapped), static_cast<ull>(s.bsm.problems));
  if (s.signals) {
    const ReplaySignalsSummary& sig = *s.signals;
    const std::string by_level = NonZeroCounts(sig.matched.matches, [](size_t l) {
      return signals::LevelName(static_cast<signals::Level>(l));
    });
    std::fprintf(out, "signals: %zu rule(s) loaded, %zu not; %llu match(es)%s%s\n", sig.loaded,
                 sig.not_loaded, static_cast<ull>(sig.matched.total()),
                 InParentheses(by_level).c_str(), sig.disabled ? " (DisableSignals is set)" : "");
    std::fprintf(out, "signal matches stored: %llu, %llu removed past RecordSignalMatches (%lld)\n",
                 static_cast<ull>(c.signal_matches), static_cast<ull>(c.signal_matches_removed),
                 static_cast<long long>(sig.record_signal_matches));
  }
  std::fprintf(out, "malformed lines: %llu, truncated records: %llu\n",
               static_cast<ull>(s.run.malformed), static_cast<ull>(s.run.truncated));
  for (const std::string& example : s.examples) std::fprintf(out, "  %s\n", example.c_str());
  // On idle cores the wall time is about the largest thread's CPU: shown
  // so that a benchmark on a shared machine can tell waiting for a core
  // from working.
  if (s.cpu.store) {
    std::fprintf(out,
                 "cpu: reading thread %.2f s, matching thread %.2f s, writer thread %.2f s; "
                 "reading thread waited %llu times\n",
                 s.cpu.reading, s.cpu.next, *s.cpu.store, static_cast<ull>(s.cpu.reading_waits));
  } else {
    std::fprintf(
        out, "cpu: reading thread %.2f s, writer thread %.2f s; reading thread waited %llu times\n",
        s.cpu.reading, s.cpu.next, static_cast<ull>(s.cpu.reading_waits));
  }
}

}  // namespace recorder::cli
