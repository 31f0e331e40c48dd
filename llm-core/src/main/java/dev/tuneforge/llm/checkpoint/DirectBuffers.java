package dev.tuneforge.llm.checkpoint;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Releases a direct or mapped buffer now instead of at some later garbage collection, so loading a
 * checkpoint tensor by tensor never holds more than one tensor's staging memory. Uses {@code
 * sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported); if that is unavailable the buffer is
 * left to the collector.
 */
public final class DirectBuffers {
  private static final Object UNSAFE;
  private static final Method INVOKE_CLEANER;

  static {
    Object unsafe = null;
    Method invokeCleaner = null;
    try {
      Class<?> type = Class.forName("sun.misc.Unsafe");
      Field field = type.getDeclaredField("theUnsafe");
      field.setAccessible(true);
      unsafe = field.get(null);
      invokeCleaner = type.getMethod("invokeCleaner", ByteBuffer.class);
    } catch (ReflectiveOperationException | RuntimeException unavailable) {
      // fall back to garbage collection
    }
    UNSAFE = unsafe;
    INVOKE_CLEANER = invokeCleaner;
  }

  private DirectBuffers() {}

  /** Frees {@code buffer}; it must not be used afterwards, nor any view of it. */
  public static void free(ByteBuffer buffer) {
    if (INVOKE_CLEANER == null || !buffer.isDirect() || buffer.capacity() == 0) {
      return;
    }
    try {
      INVOKE_CLEANER.invoke(UNSAFE, buffer);
    } catch (ReflectiveOperationException | IllegalArgumentException notFreeable) {
      // a slice or duplicate: left to the garbage collector
    }
  }
}
