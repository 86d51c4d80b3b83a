package org.rankadaptor.dl4j.runtime;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.Map;

/**
 * The few libc and OpenBLAS calls {@link Nd4jRuntime} needs, through JNA. Linux only: the dlopen flag
 * values below are glibc's.
 */
final class LinuxNative {

  private static final int RTLD_LAZY = 0x1;
  // Only find a library that is already loaded; never load one nor change its symbol visibility.
  private static final int RTLD_NOLOAD = 0x4;

  private LinuxNative() {}

  /** libc's environment functions; Java's {@code System.getenv} is a snapshot native code never sees. */
  interface LibC extends Library {
    String getenv(String name);

    int setenv(String name, String value, int overwrite);
  }

  /** Loads libc; throws {@link LinkageError} when JNA cannot reach it. */
  static LibC libc() {
    return Native.load("c", LibC.class);
  }

  /**
   * Asks an already loaded OpenBLAS for the kernel family it runs ({@code openblas_get_corename()}).
   *
   * @param libraryPath absolute path of the loaded {@code libopenblas*.so}
   * @return the core name, or null when the library or the function cannot be found
   */
  static String openBlasCoreName(String libraryPath) {
    try {
      NativeLibrary library =
          NativeLibrary.getInstance(
              libraryPath, Map.of(Library.OPTION_OPEN_FLAGS, RTLD_LAZY | RTLD_NOLOAD));
      Function function = library.getFunction("openblas_get_corename");
      String name = function.invokeString(new Object[0], false);
      return name == null ? null : name.trim();
    } catch (LinkageError | RuntimeException e) {
      return null;
    }
  }
}
