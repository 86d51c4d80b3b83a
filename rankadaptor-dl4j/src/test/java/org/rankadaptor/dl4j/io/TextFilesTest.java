package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.dl4j.testing.SharedFiles;

class TextFilesTest {

  @Test
  void windowsAndOldMacLineEndingsBecomeLineFeeds(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("mixed.txt");
    Files.write(file, "one\r\ntwo\rthree\nfour\r\n\r\nfive".getBytes(StandardCharsets.UTF_8));
    assertEquals("one\ntwo\nthree\nfour\n\nfive", TextFiles.read(file));
    assertEquals("one\r\ntwo\rthree\nfour\r\n\r\nfive", TextFiles.read(file, TextFiles.LineEndings.KEEP));
    assertEquals("no breaks", TextFiles.normalize("no breaks"));
  }

  @Test
  void theSharedTinyStoriesExcerptLosesItsCarriageReturnTokens() throws IOException {
    Path excerpt = SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt");
    Llama2cTokenizer tok = Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"), 512);
    int[] kept = tok.encode(TextFiles.read(excerpt, TextFiles.LineEndings.KEEP), true, false);
    int[] normalized = tok.encode(TextFiles.read(excerpt), true, false);
    long carriageReturns = Arrays.stream(kept).filter(id -> tok.decode(new int[] {id}).equals("\r")).count();
    assertTrue(carriageReturns > 0, "the shared excerpt is expected to be written with CRLF");
    assertEquals(kept.length - carriageReturns, normalized.length);
    assertFalse(Arrays.stream(normalized).anyMatch(id -> tok.decode(new int[] {id}).contains("\r")));
  }
}
