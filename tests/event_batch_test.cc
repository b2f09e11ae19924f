// EventBatch reuses its events: what a slot held must never show through
// in the next event written into it.
#include "normalize/event_batch.h"

#include <gtest/gtest.h>

#include <string>

#include "pipeline/pipeline.h"
#include "pipeline_support.h"

namespace recorder {
namespace {

const std::string kLong(100, 'x');  // past any small-string buffer

// Every field of the header, subject and enrichment away from its default.
TypedEvent Dirty() {
  TypedEvent e;
  e.header = {"node" + kLong, 7, 8, "x86_64", "execve", "key" + kLong, false, -2, true};
  Subject& s = e.subject;
  s = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "pts0" + kLong, "comm" + kLong, "/exe" + kLong};
  e.enrichment = {"u" + kLong, "e" + kLong, "l" + kLong, "s" + kLong,
                  "m" + kLong, "n" + kLong, 11,          12};
  e.signals = {SignalHit{"rule" + kLong, "t", "high", "a", "sel"}};
  e.platform = Platform::kMacos;
  return e;
}

// One dirty value of each body alternative.
std::vector<EventBody> DirtyBodies() {
  return {
      ProcessStart{{"a" + kLong, "b"}, 2, true, "/cwd" + kLong, "title" + kLong, 5},
      ProcessEnd{3},
      FileEvent{FileOperation::kRename, "/p" + kLong, "/q" + kLong, 0644, 1, 2,
                PathOrigin{3, 1, 2, 3, 4, true, true}, PathOrigin{4, 5, 6, 7, 8, true, true}},
      NetworkEvent{NetworkDirection::kListen, NetworkProtocol::kTcp, AddressFamily::kInet6,
                   "::1" + kLong, 80, "r" + kLong, 90, true, true, true, 5, 6},
      SecurityEvent{SecurityKind::kCommand, SecurityRecordType::kUserCmd, "u" + kLong, "t" + kLong,
                    SecurityResult::kFailed, "pts1", "10.0.0.1", "host" + kLong, "d" + kLong},
      ModuleEvent{ModuleOperation::kUnload, "mod" + kLong},
      ImageLoadEvent{"/lib" + kLong, true, "h" + kLong, "note" + kLong},
      ExecFailure{"/x" + kLong, 13, "/cwd" + kLong},
      DnsEvent{"q" + kLong,
               28,
               1,
               7,
               true,
               3,
               {DnsAnswerRecord{"n" + kLong, 5, 300, "t" + kLong}},
               NetworkProtocol::kTcp,
               AddressFamily::kInet6,
               "::1" + kLong,
               53,
               1234,
               DnsAttribution::kLocalPort},
      RegistryEvent{"SetValue" + kLong, "HKLM\\x" + kLong, "DWORD" + kLong, "n" + kLong},
  };
}

TEST(EventBatch, ResetEventLeavesNothingOfAnyBody) {
  ASSERT_EQ(DirtyBodies().size(), std::variant_size_v<EventBody>);  // one of each
  for (const EventBody& body : DirtyBodies()) {
    TypedEvent e = Dirty();
    e.body = body;
    ResetEvent(&e);
    TypedEvent fresh;
    // The body keeps its alternative, emptied.
    std::visit([&](const auto& b) { fresh.body = std::decay_t<decltype(b)>{}; }, body);
    EXPECT_TRUE(e == fresh) << "body alternative " << body.index();
  }
}

TEST(EventBatch, ResetBodySwitchesOrEmptiesInPlace) {
  EventBody body = FileEvent{FileOperation::kDelete,
                             "/p" + kLong,
                             "",
                             1,
                             2,
                             3,
                             PathOrigin{3, 1, 2, 3, 4, true, true},
                             PathOrigin()};
  const char* buffer = std::get<FileEvent>(body).path.data();
  FileEvent& same = ResetBody<FileEvent>(&body);
  EXPECT_TRUE(same == FileEvent{});
  EXPECT_EQ(same.path.data(), buffer);  // capacity kept
  ModuleEvent& other = ResetBody<ModuleEvent>(&body);
  EXPECT_TRUE(other == ModuleEvent{});
  EXPECT_TRUE(std::holds_alternative<ModuleEvent>(body));
}

TEST(EventBatch, ClearedSlotsComeBackEmptyWithTheirCapacity) {
  EventBatch batch;
  TypedEvent& first = batch.Add();
  first = Dirty();
  first.body = FileEvent{
      FileOperation::kWrite, "/p" + kLong, "", -1, -1, -1, PathOrigin{3, 1, 2, 3, 4, false, true},
      PathOrigin()};
  const char* exe_buffer = first.subject.exe.data();
  batch.Add() = Dirty();
  ASSERT_EQ(batch.size(), 2u);

  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.begin(), batch.end());
  TypedEvent& reused = batch.Add();
  EXPECT_EQ(batch.size(), 1u);
  TypedEvent expected;
  expected.body = FileEvent{};
  EXPECT_TRUE(reused == expected);
  EXPECT_EQ(reused.subject.exe.data(), exe_buffer);
}

TEST(EventBatch, PopTruncateCopyAndSwap) {
  EventBatch batch;
  for (int i = 0; i < 5; ++i) batch.Add().subject.pid = i;
  batch.pop_back();
  batch.Truncate(3);
  batch.Truncate(10);  // never grows
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.back().subject.pid, 2);
  EXPECT_THROW(batch.at(3), std::out_of_range);

  EventBatch copy = batch;
  ASSERT_EQ(copy.size(), 3u);
  EXPECT_EQ(copy[2].subject.pid, 2);

  EventBatch other;
  other.Add().subject.pid = 99;
  other.swap(batch);
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].subject.pid, 99);
  EXPECT_EQ(other.size(), 3u);

  // The fifth slot, popped, is handed out again as an empty event.
  other.Add();
  other.Add();
  ASSERT_EQ(other.size(), 5u);
  EXPECT_EQ(other[4].subject.pid, 0);
}

// Keeps copies; the pipeline's batch keeps its slots, dirty with
// whatever event they held last.
class CopySink : public EventSink {
 public:
  explicit CopySink(bool fresh_batches) : fresh_batches_(fresh_batches) {}
  Status Consume(EventBatch* events) override {
    for (const TypedEvent& e : *events) events_.push_back(e);
    // Hands the pipeline a brand-new batch: nothing to reuse.
    if (fresh_batches_) EventBatch().swap(*events);
    return Status::Ok();
  }
  std::vector<TypedEvent> events_;

 private:
  bool fresh_batches_;
};

std::vector<TypedEvent> Replay(const std::string& file, bool fresh_batches, size_t batch) {
  CopySink sink(fresh_batches);
  PipelineOptions options;
  options.sink_batch = batch;
  Pipeline pipeline(options, nullptr, &sink);
  FeedCapturedLog(file, &pipeline);
  return std::move(sink.events_);
}

// The captured logs hold every kind of event, in mixed order: written into
// reused slots, each comes out exactly as it does from fresh events.
TEST(EventBatch, ReusedSlotsNormalizeLikeFreshEvents) {
  for (const char* file : {"capture-raw.log", "capture-enriched.log"}) {
    for (size_t batch : {size_t{1}, size_t{7}, size_t{1024}}) {
      std::vector<TypedEvent> fresh = Replay(file, /*fresh_batches=*/true, batch);
      std::vector<TypedEvent> reused = Replay(file, /*fresh_batches=*/false, batch);
      ASSERT_GT(fresh.size(), 100u) << file;
      ASSERT_EQ(reused.size(), fresh.size()) << file;
      size_t differing = 0;
      for (size_t i = 0; i < fresh.size(); ++i) {
        if (!(reused[i] == fresh[i])) {
          if (++differing <= 3)
            ADD_FAILURE() << file << " batch " << batch << ": event " << i << " (serial "
                          << fresh[i].header.serial << ") differs when its slot was reused";
        }
      }
      EXPECT_EQ(differing, 0u);
    }
  }
}

}  // namespace
}  // namespace recorder
