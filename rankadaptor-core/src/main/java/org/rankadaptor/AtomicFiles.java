package org.rankadaptor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Output files written whole or not at all: the bytes go to a temporary file in the same folder, are
 * synced, and the temporary file is renamed over the target. A process killed while writing leaves the
 * previous file (or none), never a truncated one that a rerun would choke on. The file gets the
 * permissions any file created by the process gets (the umask decides), not the owner-only mode of
 * {@link Files#createTempFile}.
 *
 * @since 0.1.0
 */
public final class AtomicFiles {

  private AtomicFiles() {}

  /** Writes {@code text} as UTF-8 to {@code file} atomically. */
  public static void writeString(Path file, String text) throws IOException {
    write(file, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code bytes} to {@code file} atomically. */
  public static void write(Path file, byte[] bytes) throws IOException {
    Path temporary = newTemporary(file);
    try {
      try (var channel = java.nio.channels.FileChannel.open(temporary, java.nio.file.StandardOpenOption.WRITE)) {
        var buffer = java.nio.ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      moveInPlace(temporary, file);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /**
   * Creates an empty temporary file beside {@code target} (creating its folder) with ordinary permissions,
   * for a writer that renames it over the target with {@link #moveInPlace} when done.
   */
  public static Path newTemporary(Path target) throws IOException {
    Path folder = target.toAbsolutePath().getParent();
    Files.createDirectories(folder);
    for (int attempt = 0; ; attempt++) {
      Path temporary = folder.resolve("." + target.getFileName() + "." + Long.toUnsignedString(
          java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36) + ".partial");
      try {
        Files.newByteChannel(temporary, java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE).close();
        return temporary;
      } catch (java.nio.file.FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw e;
        }
      }
    }
  }

  /** Renames a finished temporary file over {@code target}, atomically where the file system can. */
  public static void moveInPlace(Path temporary, Path target) throws IOException {
    try {
      Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
