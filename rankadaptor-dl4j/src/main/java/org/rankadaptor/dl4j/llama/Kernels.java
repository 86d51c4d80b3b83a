package org.rankadaptor.dl4j.llama;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Row-wise and elementwise loops written in Java over ND4J's native buffers, for the operations where
 * libnd4j 1.0.0-M2.1 is slow on CPU: its {@code exp} (and so softmax and sigmoid) costs several
 * nanoseconds per element, and every op makes a full pass and often a temporary. Each loop here reads
 * and writes its buffers once, in place where it can, and splits rows over ND4J's thread count.
 *
 * <p>Arrays must be c-ordered and contiguous (views of consecutive rows are). float32 arrays use an
 * exponential accurate to about 2e-7 relative (float32 rounding); float64 arrays use {@link Math#exp},
 * so gradient checks in float64 see exact arithmetic.
 */
final class Kernels {

  /**
   * System property choosing how the decoder's element-wise and row-wise operations run: {@code fused}
   * (these loops over host memory) or {@code nd4j} (ND4J operations, {@link NdOps}). By default the loops
   * on ND4J's CPU backend and ND4J operations on any other, where buffers live on a device.
   */
  static final String PROPERTY = "rankadaptor.kernels";

  private static volatile Boolean fused; // null: not decided yet

  /** Whether {@link Ops} runs these loops rather than ND4J operations. */
  static boolean fused() {
    Boolean f = fused;
    if (f == null) {
      String chosen = System.getProperty(PROPERTY, "");
      f = switch (chosen) {
        case "fused" -> true;
        case "nd4j" -> false;
        case "" -> Nd4j.getEnvironment().isCPU();
        default -> throw new IllegalArgumentException(
            "-D" + PROPERTY + " is fused or nd4j, got '" + chosen + "'");
      };
      fused = f;
    }
    return f;
  }

  private static volatile Boolean onHost; // null: not asked yet

  /** Whether the backend computes on host memory, where these loops may read and write. */
  private static boolean onHost() {
    Boolean h = onHost;
    if (h == null) {
      h = Nd4j.getEnvironment().isCPU();
      onHost = h;
    }
    return h;
  }

  /** Forces the choice ({@code null}: decide again from the property and the backend); for tests. */
  static void useFused(Boolean value) {
    fused = value;
  }


  /** Below this many elements a loop runs on the calling thread alone. */
  private static final long PARALLEL_THRESHOLD = 1 << 15;

  private Kernels() {}

  // ---------------------------------------------------------------- buffer access

  /**
   * Elements of one contiguous array, read and written as doubles whatever their storage, with the
   * few bulk operations that dominate: the argmax, the sum of shifted exponentials and a scaling of a
   * range. The float32 versions work on small on-heap tiles, where the JIT vectorises the arithmetic.
   */
  abstract static sealed class Values permits Floats, Doubles {
    abstract double get(int i);

    abstract void set(int i, double v);

    /** Index of the first largest element of {@code [from, to)}; {@code from} if all are NaN. */
    abstract int argmax(int from, int to);

    /**
     * Sum of {@code e^(x[i] - shift)} over {@code [from, to)}, with shift at least every element so
     * that nothing overflows; with {@code store} each element is replaced by its exponential.
     */
    abstract double expSum(int from, int to, double shift, boolean store);

    /** Multiplies {@code [from, to)} by {@code factor}. */
    abstract void scale(int from, int to, double factor);

    /**
     * Over {@code [from, to)}, with p the softmax probabilities there (same storage type): {@code this
     * = p * (this - sum_j this_j p_j)}, the softmax's backward pass in place.
     */
    abstract void softmaxBackward(Values p, int from, int to);

    /** Sets {@code [from, to)} to zero. */
    abstract void zero(int from, int to);

    /** Replaces each element x of {@code [from, to)} by its logistic sigmoid 1 / (1 + e^-x). */
    abstract void sigmoid(int from, int to);
  }

  /** Elements per on-heap tile: two float tiles stay in the first-level cache. */
  private static final int TILE = 2048;

  private static final ThreadLocal<float[][]> TILES =
      ThreadLocal.withInitial(() -> new float[][] {new float[TILE], new float[TILE]});

  static final class Floats extends Values {
    private final FloatBuffer buffer;

    Floats(FloatBuffer buffer) {
      this.buffer = buffer;
    }

    @Override
    double get(int i) {
      return buffer.get(i);
    }

    @Override
    void set(int i, double v) {
      buffer.put(i, (float) v);
    }

    @Override
    int argmax(int from, int to) {
      float[] tile = TILES.get()[0];
      int best = from;
      float max = Float.NEGATIVE_INFINITY;
      for (int t0 = from; t0 < to; t0 += TILE) {
        int n = Math.min(TILE, to - t0);
        buffer.get(t0, tile, 0, n);
        for (int i = 0; i < n; i++) {
          if (tile[i] > max) {
            max = tile[i];
            best = t0 + i;
          }
        }
      }
      return best;
    }

    @Override
    double expSum(int from, int to, double shift, boolean store) {
      float[][] tiles = TILES.get();
      float[] tile = tiles[0];
      float[] rounded = tiles[1];
      float offset = (float) shift;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int t0 = from; t0 < to; t0 += TILE) {
        int n = Math.min(TILE, to - t0);
        buffer.get(t0, tile, 0, n);
        expInPlace(tile, rounded, n, offset);
        int i = 0;
        // Four partial sums: one chain would wait on each addition's latency.
        for (; i + 3 < n; i += 4) {
          s0 += tile[i];
          s1 += tile[i + 1];
          s2 += tile[i + 2];
          s3 += tile[i + 3];
        }
        for (; i < n; i++) {
          s0 += tile[i];
        }
        if (store) {
          buffer.put(t0, tile, 0, n);
        }
      }
      return (s0 + s1) + (s2 + s3);
    }

    @Override
    void scale(int from, int to, double factor) {
      float[] tile = TILES.get()[0];
      float f = (float) factor;
      for (int t0 = from; t0 < to; t0 += TILE) {
        int n = Math.min(TILE, to - t0);
        buffer.get(t0, tile, 0, n);
        for (int i = 0; i < n; i++) {
          tile[i] *= f;
        }
        buffer.put(t0, tile, 0, n);
      }
    }

    @Override
    void softmaxBackward(Values p, int from, int to) {
      FloatBuffer probs = ((Floats) p).buffer;
      float[][] tiles = TILES.get();
      float[] d = tiles[0];
      float[] q = tiles[1];
      double s0 = 0, s1 = 0;
      for (int t0 = from; t0 < to; t0 += TILE) {
        int n = Math.min(TILE, to - t0);
        buffer.get(t0, d, 0, n);
        probs.get(t0, q, 0, n);
        int i = 0;
        for (; i + 1 < n; i += 2) {
          s0 += d[i] * q[i];
          s1 += d[i + 1] * q[i + 1];
        }
        for (; i < n; i++) {
          s0 += d[i] * q[i];
        }
      }
      float dot = (float) (s0 + s1);
      for (int t0 = from; t0 < to; t0 += TILE) {
        int n = Math.min(TILE, to - t0);
        buffer.get(t0, d, 0, n);
        probs.get(t0, q, 0, n);
        for (int i = 0; i < n; i++) {
          d[i] = q[i] * (d[i] - dot);
        }
        buffer.put(t0, d, 0, n);
      }
    }

    @Override
    void zero(int from, int to) {
      for (int i = from; i < to; i++) {
        buffer.put(i, 0f);
      }
    }

    @Override
    void sigmoid(int from, int to) {
      float[][] tiles = TILES.get();
      float[] tile = tiles[0];
      for (int t0 = from; t0 < to; t0 += TILE) {
        int n = Math.min(TILE, to - t0);
        buffer.get(t0, tile, 0, n);
        for (int i = 0; i < n; i++) {
          tile[i] = -tile[i];
        }
        expInPlace(tile, tiles[1], n, 0f);
        for (int i = 0; i < n; i++) {
          tile[i] = 1f / (1f + tile[i]);
        }
        buffer.put(t0, tile, 0, n);
      }
    }
  }

  static final class Doubles extends Values {
    private final DoubleBuffer buffer;

    Doubles(DoubleBuffer buffer) {
      this.buffer = buffer;
    }

    @Override
    double get(int i) {
      return buffer.get(i);
    }

    @Override
    void set(int i, double v) {
      buffer.put(i, v);
    }

    @Override
    int argmax(int from, int to) {
      int best = from;
      double max = Double.NEGATIVE_INFINITY;
      for (int i = from; i < to; i++) {
        double v = buffer.get(i);
        if (v > max) {
          max = v;
          best = i;
        }
      }
      return best;
    }

    @Override
    double expSum(int from, int to, double shift, boolean store) {
      double sum = 0;
      for (int i = from; i < to; i++) {
        double e = Math.exp(buffer.get(i) - shift);
        if (store) {
          buffer.put(i, e);
        }
        sum += e;
      }
      return sum;
    }

    @Override
    void scale(int from, int to, double factor) {
      for (int i = from; i < to; i++) {
        buffer.put(i, buffer.get(i) * factor);
      }
    }

    @Override
    void softmaxBackward(Values p, int from, int to) {
      DoubleBuffer probs = ((Doubles) p).buffer;
      double dot = 0;
      for (int i = from; i < to; i++) {
        dot += buffer.get(i) * probs.get(i);
      }
      for (int i = from; i < to; i++) {
        buffer.put(i, probs.get(i) * (buffer.get(i) - dot));
      }
    }

    @Override
    void zero(int from, int to) {
      for (int i = from; i < to; i++) {
        buffer.put(i, 0.0);
      }
    }

    @Override
    void sigmoid(int from, int to) {
      for (int i = from; i < to; i++) {
        buffer.put(i, 1.0 / (1.0 + Math.exp(-buffer.get(i))));
      }
    }
  }

  private static final float LOG2_E = 1.44269504088896341f;

  /** ln 2 split so that {@code r * LN2_HI} is exact for the integers r that occur. */
  private static final float LN2_HI = 0.693359375f;

  private static final float LN2_LO = -2.12194440e-4f;

  /** Adding and subtracting 1.5 * 2^23 rounds a float of magnitude below 2^22 to an integer. */
  private static final float ROUNDING = 12582912f;

  /** e^-87.3365 is 2^-126, the smallest normal float; e^88 is below the largest float. */
  private static final float EXP_LOW = -87.3365f;

  private static final float EXP_HIGH = 88f;

  /**
   * {@code x[i] = e^(x[i] - shift)} for {@code i < n}, to about 2e-7 relative error: with y = x - shift
   * clamped to [-87.34, 88], e^y = 2^r e^g where r = round(y log2 e) and g = y - r ln 2 (|g| <= ln2/2,
   * formed in two steps so it is exact), e^g by a degree-6 polynomial fitted on Chebyshev nodes. The
   * first loop holds only float arithmetic, which the JIT turns into vector instructions; the exponent
   * bits of 2^r are put together in a second, scalar loop.
   *
   * @param rounded scratch of at least {@code n} elements
   */
  static void expInPlace(float[] x, float[] rounded, int n, float shift) {
    for (int i = 0; i < n; i++) {
      float y = Math.min(Math.max(x[i] - shift, EXP_LOW), EXP_HIGH);
      float r = (y * LOG2_E + ROUNDING) - ROUNDING;
      float g = (y - r * LN2_HI) - r * LN2_LO;
      float p = 1.3948588e-3f;
      p = p * g + 8.3751352e-3f;
      p = p * g + 4.1666217e-2f;
      p = p * g + 1.6666415e-1f;
      p = p * g + 0.5f;
      p = p * g + 1.0f;
      p = p * g + 1.0f;
      x[i] = p;
      rounded[i] = r;
    }
    for (int i = 0; i < n; i++) {
      x[i] *= Float.intBitsToFloat(((int) rounded[i] + 127) << 23);
    }
  }

  /** Whether {@code a}'s elements lie in row-major order without gaps (size-1 axes may have any stride). */
  static boolean isContiguous(INDArray a) {
    long expected = 1;
    for (int d = a.rank() - 1; d >= 0; d--) {
      if (a.size(d) != 1 && a.stride(d) != expected) {
        return false;
      }
      expected *= a.size(d);
    }
    return true;
  }

  /** The elements of {@code a}, which must be c-ordered, contiguous, float32 or float64. */
  static Values values(INDArray a) {
    if (!onHost()) {
      throw new IllegalStateException("the fused kernels read and write host memory, which this ND4J backend does "
          + "not compute on: run with -D" + PROPERTY + "=nd4j (the default on such a backend)");
    }
    if (!isContiguous(a)) {
      throw new IllegalStateException("expected a contiguous c-ordered array, got " + a.shapeInfoToString());
    }
    if (a.length() * a.dataType().width() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "array of " + a.length() + " elements is too large for one Java buffer view");
    }
    long offset = a.offset();
    long end = offset + a.length();
    if (a.dataType() == DataType.FLOAT) {
      FloatPointer p = new FloatPointer(a.data().pointer());
      return new Floats(p.position(offset).limit(end).asBuffer());
    }
    if (a.dataType() == DataType.DOUBLE) {
      DoublePointer p = new DoublePointer(a.data().pointer());
      return new Doubles(p.position(offset).limit(end).asBuffer());
    }
    throw new IllegalArgumentException("unsupported data type " + a.dataType());
  }

  /** A body run on rows {@code [from, to)}. */
  @FunctionalInterface
  interface RowRange {
    void run(int from, int to);
  }

  /** Splits {@code rows} rows (of {@code rowLength} elements each) into one block per thread. */
  static void forRows(int rows, long rowLength, RowRange body) {
    int threads = Math.max(1, Nd4j.getEnvironment().maxThreads());
    int blocks = rows * rowLength < PARALLEL_THRESHOLD ? 1 : Math.min(rows, threads);
    if (blocks == 1) {
      body.run(0, rows);
      return;
    }
    IntStream.range(0, blocks)
        .parallel()
        .forEach(k -> body.run((int) ((long) rows * k / blocks), (int) ((long) rows * (k + 1) / blocks)));
  }
}
