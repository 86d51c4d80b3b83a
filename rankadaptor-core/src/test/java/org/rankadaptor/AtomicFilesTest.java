package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir Path dir;

  @Test
  void replacesTheFileWholeAndLeavesNoTemporaryBehind() throws IOException {
    Path file = dir.resolve("sub/result.json");
    AtomicFiles.writeString(file, "{\"first\": 1}");
    AtomicFiles.writeString(file, "{\"second\": 2}");
    assertThat(Files.readString(file)).isEqualTo("{\"second\": 2}");
    try (var files = Files.list(file.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("result.json");
    }
  }

  @Test
  void aWriteThatFailsLeavesThePreviousFile() throws IOException {
    Path file = dir.resolve("result.json");
    AtomicFiles.writeString(file, "previous");
    // A folder where the file should go: the rename fails after the bytes were written.
    Path blocked = dir.resolve("blocked");
    Files.createDirectories(blocked.resolve("child"));
    assertThatThrownBy(() -> AtomicFiles.writeString(blocked, "new")).isInstanceOf(IOException.class);
    assertThat(Files.readString(file)).isEqualTo("previous");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).toList())
          .containsExactlyInAnyOrder("result.json", "blocked");
    }
  }
}
