package org.rankadaptor.examples;

import java.io.PrintWriter;
import java.util.Locale;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.Observation;
import org.rankadaptor.SearchListener;
import org.rankadaptor.dl4j.recover.RecoveryListener;
import org.rankadaptor.dl4j.recover.RecoveryProgress;

/** What the commands that run a search print: progress on stderr and the cells of their tables. */
final class SearchConsole {

  private SearchConsole() {}

  /** A number with four decimals, or "-" when not finite (a failed or unpredicted value). */
  static String number(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "-";
  }

  /** The observation's task metric: perplexity when it has one, else accuracy; "failed" for a failure. */
  static String metric(Observation o) {
    if (!o.succeeded()) {
      return "failed";
    }
    Double ppl = o.metrics().get("ppl");
    return ppl != null ? String.format(Locale.ROOT, "ppl %.3f", ppl) : String.format(Locale.ROOT, "acc %.3f", o.score());
  }

  /**
   * A one-line progress report per recovery step on stderr, ended when the recovery ends. Fine-tunes
   * running at once share the line, each report naming its configuration.
   */
  static final class Progress implements RecoveryListener {
    private final PrintWriter err;

    Progress(PrintWriter err) {
      this.err = err;
    }

    @Override
    public synchronized void onStep(RecoveryProgress p) {
      err.printf(Locale.ROOT, "\r  recovering %s: step %d/%d, loss %.4f, %.0f tokens/s, %.0f s left   ",
          p.config().format(), p.step(), p.totalSteps(), p.loss(), p.tokensPerSecond(), p.secondsLeft());
      if (p.step() == p.totalSteps()) {
        err.println();
      }
      err.flush();
    }
  }

  /** One line per target evaluation on stderr. */
  static final class SearchProgress implements SearchListener {
    private final PrintWriter err;

    SearchProgress(PrintWriter err) {
      this.err = err;
    }

    @Override
    public void onEvaluation(IterationRecord r) {
      err.printf(Locale.ROOT, "evaluation %d: %s predicted %s measured %s%s%n", r.index(), r.config().format(),
          number(r.predicted()), number(r.observation().score()), r.reused() ? " (from store)" : "");
      err.flush();
    }
  }
}
