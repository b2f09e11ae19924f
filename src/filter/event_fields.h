// The values filter fields take on a typed event, or on a process
// instance from the lineage. The one place that knows how TypedEvent
// stores each field: a change to the event structs (an enum for a string,
// a new body) is adapted here and in EventTypeOf.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "filter/filter_rules.h"
#include "filter/process_lineage.h"
#include "normalize/typed_event.h"

namespace recorder::filter {

// The filter type of an event body. Every EventBody alternative must have
// one (a new alternative fails to compile here until it is given one).
EventType EventTypeOf(const TypedEvent& event);

// Scratch for values that are built, not read (joined argv).
struct FieldBuffers {
  std::string cmdline;
};

// Each accessor returns false when the event (or instance) has no value
// for the field; a rule's condition on an absent value does not match.
//
// Fields of one event. `subject_only`: only the fields that describe the
// subject process (exe, parent_exe, cmdline, user, uid, auid), for judging
// the process behind a non-process event when the lineage does not know
// that process.
class EventFields {
 public:
  EventFields(const TypedEvent& event, EventType type, const ProcessLineage* lineage,
              FieldBuffers* buffers, bool subject_only = false)
      : event_(event),
        type_(type),
        lineage_(lineage),
        buffers_(buffers),
        subject_only_(subject_only) {}

  bool String(Field field, std::string_view* out) const;  // strings, paths, enums, addresses
  bool Integer(Field field, int64_t* out) const;
  bool Bool(Field field, bool* out) const;

 private:
  bool SubjectString(Field field, std::string_view* out) const;

  const TypedEvent& event_;
  EventType type_;
  const ProcessLineage* lineage_;
  FieldBuffers* buffers_;
  bool subject_only_;
};

// Fields of a process instance the lineage described (an ancestor, or the
// subject of a non-process event): exe, parent_exe, cmdline (when the
// table keeps argv), uid, auid. `user` is not known for these.
class InstanceFields {
 public:
  InstanceFields(const ProcessFacts& facts, int64_t at_ms, const ProcessLineage* lineage,
                 FieldBuffers* buffers)
      : facts_(facts), at_ms_(at_ms), lineage_(lineage), buffers_(buffers) {}

  bool String(Field field, std::string_view* out) const;
  bool Integer(Field field, int64_t* out) const;
  bool Bool(Field, bool*) const { return false; }

 private:
  const ProcessFacts& facts_;
  int64_t at_ms_;
  const ProcessLineage* lineage_;
  FieldBuffers* buffers_;
};

// "a b c" from argv, into *out.
void JoinArgv(const std::vector<std::string>& argv, std::string* out);

}  // namespace recorder::filter
