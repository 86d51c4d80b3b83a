package org.rankadaptor.dl4j.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates files of the project's {@code ../shared} folder for tests. When a file is absent (a user's
 * fresh clone) the calling test is skipped with a message; under {@code CI=true} it fails instead, so
 * that CI can never pass by skipping.
 */
public final class SharedFiles {

  private SharedFiles() {}

  /** The shared folder: the {@code rankadaptor.shared} system property, else {@code ../shared}. */
  public static Path root() {
    String configured = System.getProperty("rankadaptor.shared");
    return configured != null ? Path.of(configured) : Path.of("..", "shared");
  }

  /**
   * Returns {@code root()/relative}, skipping the test (or failing it under CI) when it does not exist.
   *
   * @param relative path below the shared folder, such as {@code data/models/stories260K/stories260K.bin}
   */
  public static Path require(String relative) {
    Path path = root().resolve(relative).normalize();
    if (!Files.exists(path)) {
      String message = "needs " + path.toAbsolutePath() + " (the project's ../shared folder)";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail(message + ", which must exist under CI=true");
      }
      abort(message + "; skipped");
    }
    return path;
  }
}
