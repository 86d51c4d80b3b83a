package org.rankadaptor.examples.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Axis ticks at round numbers (1, 2 or 5 times a power of ten) covering a data range, about five of them;
 * the axis runs from the first tick to the last, so every data point lies inside it.
 *
 * @param values the ticks, ascending
 * @param step the distance between ticks
 */
record Ticks(List<Double> values, double step) {

  private static final int TARGET_TICKS = 5;

  static Ticks of(double lo, double hi, boolean integers) {
    if (!(hi > lo)) {
      // A single value: an interval around it.
      double pad = lo == 0 ? 1 : Math.abs(lo) * 0.05;
      lo -= pad;
      hi += pad;
    }
    double raw = (hi - lo) / TARGET_TICKS;
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = magnitude;
    for (double m : new double[] {1, 2, 5, 10}) {
      if (m * magnitude >= raw) {
        step = m * magnitude;
        break;
      }
    }
    if (integers) {
      step = Math.max(1, Math.rint(step));
    }
    // Ticks are whole multiples of the step; rounding in the divisions must not leave data outside them.
    long first = (long) Math.floor(lo / step);
    long last = (long) Math.ceil(hi / step);
    while (first * step > lo) {
      first--;
    }
    while (last * step < hi) {
      last++;
    }
    List<Double> values = new ArrayList<>();
    for (long k = first; k <= last; k++) {
      values.add(k * step);
    }
    return new Ticks(List.copyOf(values), step);
  }

  double min() {
    return values.get(0);
  }

  double max() {
    return values.get(values.size() - 1);
  }

  /** A tick label with as many decimals as the step needs. */
  String format(double v) {
    int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
    return String.format(Locale.ROOT, "%." + decimals + "f", v + 0.0);
  }
}
