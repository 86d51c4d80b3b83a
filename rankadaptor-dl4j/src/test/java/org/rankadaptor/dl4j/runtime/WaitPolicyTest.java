package org.rankadaptor.dl4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WaitPolicyTest {

  /** An environment in a map, standing in for libc's. */
  private static final class FakeLibC implements LinuxNative.LibC {
    final Map<String, String> env = new HashMap<>();

    @Override
    public String getenv(String name) {
      return env.get(name);
    }

    @Override
    public int setenv(String name, String value, int overwrite) {
      if (overwrite != 0 || !env.containsKey(name)) {
        env.put(name, value);
      }
      return 0;
    }
  }

  @Test
  void setsPassiveWaitingByDefault() {
    FakeLibC libc = new FakeLibC();
    assertThat(Nd4jRuntime.applyWaitPolicy("passive", libc)).isEqualTo("PASSIVE");
    assertThat(libc.env).containsEntry("OMP_WAIT_POLICY", "PASSIVE");
  }

  @Test
  void keepsTheUsersOwnPolicy() {
    FakeLibC libc = new FakeLibC();
    libc.env.put("OMP_WAIT_POLICY", "ACTIVE");
    assertThat(Nd4jRuntime.applyWaitPolicy("passive", libc)).isEqualTo("ACTIVE");
    assertThat(libc.env).containsEntry("OMP_WAIT_POLICY", "ACTIVE");
  }

  @Test
  void offLeavesTheEnvironmentAlone() {
    FakeLibC libc = new FakeLibC();
    assertThat(Nd4jRuntime.applyWaitPolicy("off", libc)).isNull();
    assertThat(libc.env).doesNotContainKey("OMP_WAIT_POLICY");
  }

  @Test
  void rejectsAnUnknownValueNamingTheProperty() {
    assertThatThrownBy(() -> Nd4jRuntime.applyWaitPolicy("spin", new FakeLibC()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rankadaptor.omp.wait")
        .hasMessageContaining("spin");
  }
}
