package org.rankadaptor.examples;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pruning setting of the stories test bed, as {@code --settings} and {@code --setting} name it.
 *
 * @param isWidth width pruning (else depth pruning)
 * @param share width: the share of the pruned layers' projection weights removed
 * @param blocks depth: blocks removed
 * @param acrossLayers width: units ranked across the pruned layers, so that layers lose unequal shares
 */
record PruningSetting(boolean isWidth, double share, int blocks, boolean acrossLayers) {

  private static final Pattern FORM = Pattern.compile("(width|width-global):(0?\\.\\d+)|(depth):(\\d+)");

  /**
   * Parses {@code width:SHARE}, {@code width-global:SHARE} (units ranked across the pruned layers, so
   * that layers lose unequal shares) or {@code depth:BLOCKS}.
   *
   * @return empty when the text has none of these forms
   */
  static Optional<PruningSetting> parse(String text) {
    Matcher m = FORM.matcher(text.trim());
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(m.group(1) != null
        ? new PruningSetting(true, Double.parseDouble(m.group(2)), 0, m.group(1).equals("width-global"))
        : depth(Integer.parseInt(m.group(4))));
  }

  static PruningSetting width(double share) {
    return new PruningSetting(true, share, 0, false);
  }

  static PruningSetting depth(int blocks) {
    return new PruningSetting(false, 0, blocks, false);
  }

  /** A folder-safe name, such as {@code width-25}, {@code width-global-50} or {@code depth-1}. */
  String name() {
    return isWidth ? String.format(Locale.ROOT, "width-%s%02.0f", acrossLayers ? "global-" : "", 100 * share)
        : "depth-" + blocks;
  }

  /** How the report's tables name it. */
  String label() {
    return isWidth ? String.format(Locale.ROOT, "Width %.0f %%%s", 100 * share, acrossLayers ? ", uneven" : "")
        : "Depth " + blocks + (blocks == 1 ? " block" : " blocks");
  }
}
