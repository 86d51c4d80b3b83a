package org.rankadaptor;

import java.nio.file.Path;

/** Holds a store open in a process of its own until its standard input closes: the second writer of a test. */
public final class StoreHolder {

  private StoreHolder() {}

  public static void main(String[] args) throws Exception {
    try (ObservationStore store = ObservationStore.open(Path.of(args[0]))) {
      System.out.println("held " + store.size());
      System.out.flush();
      while (System.in.read() >= 0) {
        // wait for the test to close our input
      }
    }
  }
}
