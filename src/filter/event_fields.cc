#include "filter/event_fields.h"

#include <type_traits>
#include <variant>

#include "normalize/event_codes.h"

namespace recorder::filter {

// Outside the anonymous namespace: clang counts a variable template used
// only in a static_assert as unused when it has internal linkage.
template <typename>
inline constexpr bool kNoFilterType = false;

namespace {

bool ParentExe(const ProcessLineage* lineage, std::string_view node, int32_t pid, int64_t start_ms,
               int64_t at_ms, std::string_view* out) {
  if (lineage == nullptr || pid <= 0) return false;
  ProcessFacts self;
  if (!lineage->Instance(node, pid, start_ms, at_ms, &self) || self.ppid <= 0) return false;
  ProcessFacts parent;
  if (!lineage->Instance(node, self.ppid, self.parent_start_ms, at_ms, &parent)) return false;
  *out = parent.exe;
  return true;
}

bool NonEmpty(std::string_view value, std::string_view* out) {
  if (value.empty()) return false;
  *out = value;
  return true;
}

}  // namespace

EventType EventTypeOf(const TypedEvent& event) {
  return std::visit(
      [](const auto& body) -> EventType {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, ProcessStart> || std::is_same_v<T, ProcessEnd> ||
                      std::is_same_v<T, ExecFailure>) {
          return EventType::kProcess;
        } else if constexpr (std::is_same_v<T, FileEvent>) {
          return EventType::kFile;
        } else if constexpr (std::is_same_v<T, NetworkEvent>) {
          return EventType::kNetwork;
        } else if constexpr (std::is_same_v<T, SecurityEvent>) {
          return EventType::kSecurity;
        } else if constexpr (std::is_same_v<T, ModuleEvent>) {
          return EventType::kModule;
        } else if constexpr (std::is_same_v<T, ImageLoadEvent>) {
          return EventType::kImage;
        } else if constexpr (std::is_same_v<T, DnsEvent>) {
          return EventType::kDns;
        } else if constexpr (std::is_same_v<T, RegistryEvent>) {
          return EventType::kRegistry;
        } else {
          static_assert(kNoFilterType<T>, "give this event body a filter EventType");
        }
      },
      event.body);
}

void JoinArgv(const std::vector<std::string>& argv, std::string* out) {
  out->clear();
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) out->push_back(' ');
    out->append(argv[i]);
  }
}

bool EventFields::SubjectString(Field field, std::string_view* out) const {
  const recorder::Subject& s = event_.subject;
  switch (field) {
    case Field::kExe:
      *out = s.exe;
      return true;
    case Field::kParentExe:
      return ParentExe(lineage_, event_.header.node, s.pid, event_.enrichment.process_start_ms,
                       event_.header.time_ms, out);
    case Field::kCmdline: {
      if (const auto* start = std::get_if<ProcessStart>(&event_.body)) {
        if (start->argv.empty()) return NonEmpty(start->proctitle, out);
        JoinArgv(start->argv, &buffers_->cmdline);
        *out = buffers_->cmdline;
        return true;
      }
      ProcessFacts facts;
      if (lineage_ == nullptr ||
          !lineage_->Instance(event_.header.node, s.pid, event_.enrichment.process_start_ms,
                              event_.header.time_ms, &facts) ||
          facts.argv == nullptr)
        return false;
      JoinArgv(*facts.argv, &buffers_->cmdline);
      *out = buffers_->cmdline;
      return true;
    }
    case Field::kUser:
      if (!subject_only_ && type_ == EventType::kSecurity)
        return NonEmpty(std::get<SecurityEvent>(event_.body).user, out);
      return NonEmpty(event_.enrichment.user, out);
    default:
      return false;
  }
}

bool EventFields::String(Field field, std::string_view* out) const {
  switch (field) {
    case Field::kExe:
    case Field::kParentExe:
    case Field::kCmdline:
    case Field::kUser:
      return SubjectString(field, out);
    default:
      break;
  }
  if (subject_only_) return false;
  if (field == Field::kSyscall) return NonEmpty(event_.header.syscall, out);
  return std::visit(
      [&](const auto& body) -> bool {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, ProcessStart>) {
          if (field == Field::kOperation) *out = "start";
          return field == Field::kOperation;
        } else if constexpr (std::is_same_v<T, ProcessEnd>) {
          if (field == Field::kOperation) *out = "end";
          return field == Field::kOperation;
        } else if constexpr (std::is_same_v<T, ExecFailure>) {
          // A process event of its caller (the subject).
          if (field == Field::kOperation) *out = "failed_exec";
          return field == Field::kOperation;
        } else if constexpr (std::is_same_v<T, FileEvent>) {
          switch (field) {
            case Field::kPath:
              return NonEmpty(body.path, out);
            case Field::kNewPath:
              return NonEmpty(body.new_path, out);
            case Field::kOperation:
              *out = Name(body.operation);
              return true;
            default:
              return false;
          }
        } else if constexpr (std::is_same_v<T, NetworkEvent>) {
          switch (field) {
            case Field::kDirection:
              *out = Name(body.direction);
              return true;
            case Field::kProtocol:
              return NonEmpty(Name(body.protocol), out);
            case Field::kFamily:
              return NonEmpty(Name(body.family), out);
            case Field::kLocalAddress:
              return NonEmpty(body.local_address, out);
            case Field::kRemoteAddress:
              return NonEmpty(body.remote_address, out);
            default:
              return false;
          }
        } else if constexpr (std::is_same_v<T, SecurityEvent>) {
          switch (field) {
            case Field::kOperation:
              *out = Name(body.kind);
              return true;
            case Field::kTargetUser:
              return NonEmpty(body.target_user, out);
            case Field::kResult:
              return NonEmpty(Name(body.result), out);
            case Field::kRecordType:
              return NonEmpty(Name(body.record_type), out);
            case Field::kTerminal:
              return NonEmpty(body.terminal, out);
            case Field::kHostname:
              return NonEmpty(body.hostname, out);
            case Field::kRemoteAddress:
              return NonEmpty(body.address, out);
            default:
              return false;
          }
        } else if constexpr (std::is_same_v<T, ModuleEvent>) {
          if (field == Field::kOperation) {
            *out = Name(body.operation);
            return true;
          }
          return field == Field::kModuleName && NonEmpty(body.module, out);
        } else if constexpr (std::is_same_v<T, ImageLoadEvent>) {
          return field == Field::kPath && NonEmpty(body.path, out);
        } else if constexpr (std::is_same_v<T, DnsEvent>) {
          switch (field) {
            case Field::kQuery:
              return NonEmpty(body.query, out);
            case Field::kRemoteAddress:
              return NonEmpty(body.server_address, out);
            case Field::kProtocol:
              return NonEmpty(Name(body.transport), out);
            default:
              return false;
          }
        } else {
          return false;
        }
      },
      event_.body);
}

bool EventFields::Integer(Field field, int64_t* out) const {
  switch (field) {
    case Field::kUid:
      *out = event_.subject.uid;
      return true;
    case Field::kAuid:
      *out = event_.subject.auid;
      return true;
    case Field::kLocalPort:
    case Field::kRemotePort: {
      if (subject_only_) return false;
      if (const auto* d = std::get_if<DnsEvent>(&event_.body)) {
        *out = d->server_port;
        return field == Field::kRemotePort && *out >= 0;
      }
      const auto* n = std::get_if<NetworkEvent>(&event_.body);
      if (n == nullptr) return false;
      *out = field == Field::kLocalPort ? n->local_port : n->remote_port;
      return *out >= 0;
    }
    default:
      return false;
  }
}

bool EventFields::Bool(Field field, bool* out) const {
  if (subject_only_ || field != Field::kSuccess) return false;
  *out = event_.header.success;
  return true;
}

bool InstanceFields::String(Field field, std::string_view* out) const {
  switch (field) {
    case Field::kExe:
      *out = facts_.exe;
      return true;
    case Field::kParentExe:
      return ParentExe(lineage_, facts_.node, facts_.pid, facts_.start_ms, at_ms_, out);
    case Field::kCmdline:
      if (facts_.argv == nullptr) return false;
      JoinArgv(*facts_.argv, &buffers_->cmdline);
      *out = buffers_->cmdline;
      return true;
    default:
      return false;
  }
}

bool InstanceFields::Integer(Field field, int64_t* out) const {
  if (field == Field::kUid) {
    *out = facts_.uid;
    return true;
  }
  if (field == Field::kAuid) {
    *out = facts_.auid;
    return true;
  }
  return false;
}

}  // namespace recorder::filter
