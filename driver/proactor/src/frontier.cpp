// Frontier operations: merge-scans over two sorted entry lists. See
// weft/io/frontier.hpp for the contract.
#include "weft/io/frontier.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>

namespace weft::io {

std::string axis_to_string(std::uint64_t axis) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text = "0x0000000000000000";
  for (std::size_t i = 0; i < 16; ++i) text[17 - i] = digits[(axis >> (4 * i)) & 0xf];
  return text;
}

status validate(frontier_view f) {
  if (f.size() > frontier_max_entries) {
    return errors::invalid_argument("frontier has ", f.size(), " entries, above the limit of ", frontier_max_entries);
  }
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i].epoch == 0) {
      return errors::invalid_argument("frontier entry ", i, " (axis ", axis_to_string(f[i].axis),
                                      ") has epoch 0; epochs start at 1");
    }
    if (i == 0) continue;
    if (f[i].axis == f[i - 1].axis) {
      return errors::invalid_argument("frontier entry ", i, " duplicates axis ", axis_to_string(f[i].axis),
                                      " of entry ", i - 1);
    }
    if (f[i].axis < f[i - 1].axis) {
      return errors::invalid_argument("frontier entry ", i, " has axis ", axis_to_string(f[i].axis), " below axis ",
                                      axis_to_string(f[i - 1].axis), " of entry ", i - 1,
                                      "; entries must ascend by axis");
    }
  }
  return status::ok();
}

frontier_order compare(frontier_view a, frontier_view b) noexcept {
  bool a_ahead = false;
  bool b_ahead = false;
  std::size_t i = 0;
  std::size_t j = 0;
  // Fast path: the same axis list walked in lockstep, epochs only. At the
  // first differing axis the general scan takes over from where this stopped.
  if (a.size() == b.size()) {
    for (; i < a.size() && a[i].axis == b[i].axis; ++i) {
      a_ahead |= a[i].epoch > b[i].epoch;
      b_ahead |= a[i].epoch < b[i].epoch;
      if (a_ahead && b_ahead) return frontier_order::concurrent;
    }
    j = i;
  }
  // Being ahead somewhere never stops being true, so concurrency is final as
  // soon as both sides are ahead somewhere.
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].axis < b[j].axis)) {
      a_ahead = true;  // an axis b lacks (epoch 0 there)
      ++i;
    } else if (i == a.size() || b[j].axis < a[i].axis) {
      b_ahead = true;
      ++j;
    } else {
      a_ahead |= a[i].epoch > b[j].epoch;
      b_ahead |= a[i].epoch < b[j].epoch;
      ++i;
      ++j;
    }
    if (a_ahead && b_ahead) return frontier_order::concurrent;
  }
  if (a_ahead) return frontier_order::after;
  return b_ahead ? frontier_order::before : frontier_order::equal;
}

bool dominates(frontier_view a, frontier_view b) noexcept {
  std::size_t i = 0;
  for (const frontier_entry& needed : b) {
    while (i < a.size() && a[i].axis < needed.axis) ++i;
    if (i == a.size() || a[i].axis != needed.axis || a[i].epoch < needed.epoch) return false;
  }
  return true;
}

bool is_satisfied(frontier_view f, frontier_view current) noexcept { return dominates(current, f); }

std::size_t find_undominated(frontier_view reference, frontier_view target, std::span<frontier_entry> out) noexcept {
  std::size_t total = 0;
  std::size_t i = 0;
  for (const frontier_entry& entry : target) {
    while (i < reference.size() && reference[i].axis < entry.axis) ++i;
    const bool covered = i < reference.size() && reference[i].axis == entry.axis && reference[i].epoch >= entry.epoch;
    if (covered) continue;
    if (total < out.size()) out[total] = entry;
    ++total;
  }
  return total;
}

std::uint64_t epoch_of(frontier_view f, std::uint64_t axis) noexcept {
  const auto* found =
      std::lower_bound(f.data(), f.data() + f.size(), axis,
                       [](const frontier_entry& entry, std::uint64_t wanted) { return entry.axis < wanted; });
  return found != f.data() + f.size() && found->axis == axis ? found->epoch : 0;
}

namespace detail {

status assign_entries(frontier_entry* entries, std::size_t capacity, std::uint8_t& count, frontier_view source) {
  if (status checked = validate(source); !checked.is_ok()) return checked;
  if (source.size() > capacity) {
    return errors::resource_exhausted("frontier of ", source.size(), " entries exceeds the capacity of ", capacity);
  }
  // memmove: the source may be (a part of) this very storage.
  if (!source.empty()) std::memmove(entries, source.data(), source.size() * sizeof(frontier_entry));
  count = static_cast<std::uint8_t>(source.size());
  return status::ok();
}

bool merge_entries(frontier_entry* entries, std::size_t capacity, std::uint8_t& count, frontier_view source) noexcept {
  if (source.empty()) return true;
  // A source inside the target's own storage is (part of) the target, which
  // the target dominates: nothing to do, and the in-place pass below must not
  // read what it is overwriting. std::less orders unrelated pointers.
  const std::less<const frontier_entry*> below;
  if (below(source.data(), entries + capacity) && below(entries, source.data() + source.size())) return true;
  if (source.size() > frontier_max_entries) return false;

  // Path 2: the same axis list; the target's axes are valid, so the source's
  // are too, and max() makes a zero source epoch harmless.
  if (source.size() == count) {
    std::size_t same = 0;
    while (same < count && entries[same].axis == source[same].axis) ++same;
    if (same == count) {
      for (std::size_t k = 0; k < count; ++k) entries[k].epoch = std::max(entries[k].epoch, source[k].epoch);
      return true;
    }
  }

  // Path 3, pass 1: the size of the union, validating the source on the way.
  std::size_t merged = 0;
  std::size_t i = 0;
  for (std::size_t j = 0; j < source.size(); ++j) {
    if (source[j].epoch == 0 || (j > 0 && source[j].axis <= source[j - 1].axis)) return false;
    while (i < count && entries[i].axis < source[j].axis) {
      ++i;
      ++merged;
    }
    if (i < count && entries[i].axis == source[j].axis) ++i;
    ++merged;
  }
  merged += count - i;
  if (merged > capacity) return false;

  // Pass 2, right to left: the write position never falls below the next
  // unread target entry (it is ahead by the number of source-only axes still
  // to place), so nothing is overwritten before it is read.
  std::size_t write = merged;
  std::size_t target_left = count;
  std::size_t source_left = source.size();
  while (source_left > 0) {
    const frontier_entry& incoming = source[source_left - 1];
    if (target_left > 0 && entries[target_left - 1].axis > incoming.axis) {
      entries[--write] = entries[--target_left];
    } else if (target_left > 0 && entries[target_left - 1].axis == incoming.axis) {
      --target_left;
      entries[--write] = {incoming.axis, std::max(entries[target_left].epoch, incoming.epoch)};
      --source_left;
    } else {
      entries[--write] = incoming;
      --source_left;
    }
  }
  count = static_cast<std::uint8_t>(merged);
  return true;
}

}  // namespace detail
}  // namespace weft::io
