package dev.tuneforge.llm.engine;

import com.sun.jna.Function;
import com.sun.jna.Structure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What this process holds in native memory, for memory tests and benchmarks: bytes in use through
 * glibc's malloc ({@code mallinfo2}: arena chunks in use plus mmapped chunks), where libtorch's CPU
 * allocator takes every tensor; and the resident set size and its peak from {@code
 * /proc/self/status}. The Java heap is not malloc'd, so it is not in {@link #mallocBytes()}.
 */
public final class NativeMemory {
  private NativeMemory() {}

  /** glibc's struct mallinfo2 (every field a size_t). */
  @Structure.FieldOrder({
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost"
  })
  public static final class MallInfo2 extends Structure implements Structure.ByValue {
    public long arena;
    public long ordblks;
    public long smblks;
    public long hblks;
    public long hblkhd;
    public long usmblks;
    public long fsmblks;
    public long uordblks;
    public long fordblks;
    public long keepcost;
  }

  private static final Function MALLINFO2 = lookup("mallinfo2");

  private static Function lookup(String name) {
    try {
      return Function.getFunction("c", name);
    } catch (UnsatisfiedLinkError | RuntimeException missing) {
      return null;
    }
  }

  /** Whether {@link #mallocBytes()} can be measured (glibc 2.33 or later). */
  public static boolean available() {
    return MALLINFO2 != null;
  }

  /** Bytes allocated through malloc and not yet freed (libtorch tensors among them). */
  public static long mallocBytes() {
    if (MALLINFO2 == null) {
      throw new IllegalStateException("mallinfo2 is not available: glibc 2.33 or later is needed");
    }
    MallInfo2 info = (MallInfo2) MALLINFO2.invoke(MallInfo2.class, new Object[0]);
    return info.uordblks + info.hblkhd;
  }

  /** Allocations at least this large are mapped on their own and unmapped when freed. */
  static final long MMAP_THRESHOLD = 1L << 20;

  private static final int M_MMAP_THRESHOLD = -3;

  /**
   * Fixes glibc's mmap threshold (1 MiB, or {@code TUNEFORGE_MMAP_THRESHOLD} bytes; "glibc" keeps
   * glibc's own policy; {@code MALLOC_MMAP_THRESHOLD_} in the environment wins), so a tensor of
   * that size or more goes back to the system when freed. By default glibc raises the threshold to
   * the size of each large block freed (up to 32 MiB), after which such tensors come from the heap
   * arenas and stay resident when freed: a QLoRA step then held about twice what it used. A lower
   * threshold costs page faults on every large allocation, so it is applied when a model with a
   * frozen NF4 or float16 base loads (a choice made to save memory), or for everything when {@code
   * TUNEFORGE_MMAP_THRESHOLD} is set. Returns whether a setting took.
   */
  public static boolean returnFreedTensorsToTheSystem() {
    String setting = System.getenv("TUNEFORGE_MMAP_THRESHOLD");
    if (System.getenv("MALLOC_MMAP_THRESHOLD_") != null
        || MALLOC_OPT == null
        || "glibc".equals(setting)) {
      return false;
    }
    long threshold =
        setting == null || setting.isBlank() ? MMAP_THRESHOLD : Long.parseLong(setting);
    Object done =
        MALLOC_OPT.invoke(Integer.class, new Object[] {M_MMAP_THRESHOLD, (int) threshold});
    return Integer.valueOf(1).equals(done);
  }

  private static final Function MALLOC_OPT = lookup("mallopt");

  /** Resident set size now, in bytes. */
  public static long rssBytes() {
    return status("VmRSS:");
  }

  /** Peak resident set size of the process so far, in bytes. */
  public static long peakRssBytes() {
    return status("VmHWM:");
  }

  /**
   * Resets the peak RSS to the current RSS (Linux 4.0+: writing 5 to /proc/self/clear_refs), so a
   * phase's own peak can be read; false where the kernel refuses.
   */
  public static boolean resetPeakRss() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | RuntimeException refused) {
      return false;
    }
  }

  private static long status(String field) {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
      for (String line : lines) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
      return 0;
    } catch (IOException e) {
      return 0;
    }
  }
}
