package io.herald.jms;

/**
 * What the native library throws: the {@code herald_core::ErrorKind} number and a
 * message. {@link JmsExceptions#convert} turns it into the matching JMS exception.
 */
public final class HeraldNativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    // The fixed numbers of herald_core::ErrorKind (core/src/error.rs); never renumbered.
    public static final int INVALID_SELECTOR = 1;
    public static final int INVALID_DESTINATION = 2;
    public static final int ILLEGAL_STATE = 3;
    public static final int TRANSACTION_ROLLED_BACK = 4;
    public static final int MESSAGE_FORMAT = 5;
    public static final int NUMBER_FORMAT = 6;
    public static final int SECURITY = 7;
    public static final int RESOURCE_ALLOCATION = 8;
    public static final int INVALID_CLIENT_ID = 9;
    public static final int INVALID_ARGUMENT = 10;
    public static final int IO = 11;
    public static final int INTERNAL = 12;
    /** A Rust panic caught at the JNI boundary. */
    public static final int PANIC = 100;

    private final int kind;

    public HeraldNativeException(int kind, String message) {
        super(message);
        this.kind = kind;
    }

    public int kind() {
        return kind;
    }
}
