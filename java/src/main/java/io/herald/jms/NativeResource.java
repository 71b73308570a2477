package io.herald.jms;

import java.lang.ref.Cleaner;

import javax.jms.IllegalStateException;
import javax.jms.JMSException;

/**
 * Owns one native handle. {@link #handle()} refuses a closed handle with an
 * IllegalStateException, so a freed handle never reaches Rust; {@link #release()} is
 * idempotent. A handle its owner forgot to close is released by a shared Cleaner, whose
 * action is a static nested class that captures only the {@code long}.
 *
 * <p>Releasing while another thread is inside a native call on the same handle is safe:
 * the native side keeps the object alive for the duration of each call (the registry hands
 * out reference-counted clones), so {@code close()} can end a blocking {@code receive()}.
 */
final class NativeResource {
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "herald-cleaner");
        t.setDaemon(true);
        return t;
    });

    private static final class Release implements Runnable {
        private final long handle;

        Release(long handle) {
            this.handle = handle;
        }

        @Override public void run() {
            Native.release(handle);
        }
    }

    private final long handle;
    private final String what;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean released;

    /** Registers {@code owner}'s handle: released when closed, or when {@code owner} is unreachable. */
    NativeResource(Object owner, long handle, String what) {
        this.handle = handle;
        this.what = what;
        this.cleanable = CLEANER.register(owner, new Release(handle));
    }

    long handle() throws IllegalStateException {
        if (released) {
            throw new IllegalStateException("the " + what + " is closed");
        }
        return handle;
    }

    /** The raw handle even when released (for a wake-up that is harmless on a stale handle). */
    long rawHandle() {
        return handle;
    }

    boolean isReleased() {
        return released;
    }

    void release() {
        released = true;
        cleanable.clean();
    }

    interface Call<T> {
        T call(long handle);
    }

    interface VoidCall {
        void call(long handle);
    }

    <T> T call(Call<T> c) throws JMSException {
        long h = handle();
        try {
            return c.call(h);
        } catch (HeraldNativeException e) {
            throw JmsExceptions.convert(e);
        }
    }

    void run(VoidCall c) throws JMSException {
        long h = handle();
        try {
            c.call(h);
        } catch (HeraldNativeException e) {
            throw JmsExceptions.convert(e);
        }
    }
}
