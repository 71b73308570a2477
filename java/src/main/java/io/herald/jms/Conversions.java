package io.herald.jms;

import javax.jms.MessageFormatException;

/**
 * The JMS property and map/stream value conversion table (JMS 2.0 section 3.5.4).
 *
 * <p><b>Why Java has its own copy.</b> The core (herald-core, {@code message::Convert})
 * owns this table for every binding. The Java provider decodes a received message into
 * plain Java objects once, in the same JNI crossing that brought it, and reads properties,
 * map entries and stream values here, so a {@code getIntProperty} costs no native call (a
 * selector-free consumer reading a few properties per message would otherwise cross JNI
 * several times per message). The price is two implementations of one table.
 *
 * <p><b>What keeps the copy honest.</b> Both are tested, cell by cell, against one file,
 * {@code tests/property-conversions.tsv}: the core by
 * {@code jni-bindings/tests/conversion_table.rs}, this class by {@code ConversionTableTest}
 * (on the values as written, and on messages that crossed the native side over vm:// and
 * tcp://, as properties and as MapMessage entries). A change to either table fails one of
 * those tests until the file, and then the other table, follow. Java's own number parsing
 * is the reference: the core reads and prints numbers as {@code Integer.parseInt},
 * {@code Float.parseFloat} and {@code String.valueOf} do.
 */
final class Conversions {
    private Conversions() {}

    private static MessageFormatException cannot(Object v, String target) {
        return new MessageFormatException("a " + v.getClass().getSimpleName() + " value cannot be read as " + target);
    }

    static boolean toBoolean(Object v) throws MessageFormatException {
        if (v == null) return false;
        if (v instanceof Boolean) return (Boolean) v;
        if (v instanceof String) return Boolean.parseBoolean((String) v);
        throw cannot(v, "boolean");
    }

    static byte toByte(Object v) throws MessageFormatException {
        if (v == null) return Byte.parseByte(null);
        if (v instanceof Byte) return (Byte) v;
        if (v instanceof String) return Byte.parseByte((String) v);
        throw cannot(v, "byte");
    }

    static short toShort(Object v) throws MessageFormatException {
        if (v == null) return Short.parseShort(null);
        if (v instanceof Byte || v instanceof Short) return ((Number) v).shortValue();
        if (v instanceof String) return Short.parseShort((String) v);
        throw cannot(v, "short");
    }

    static int toInt(Object v) throws MessageFormatException {
        if (v == null) return Integer.parseInt(null);
        if (v instanceof Byte || v instanceof Short || v instanceof Integer) return ((Number) v).intValue();
        if (v instanceof String) return Integer.parseInt((String) v);
        throw cannot(v, "int");
    }

    static long toLong(Object v) throws MessageFormatException {
        if (v == null) return Long.parseLong(null);
        if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) return ((Number) v).longValue();
        if (v instanceof String) return Long.parseLong((String) v);
        throw cannot(v, "long");
    }

    static float toFloat(Object v) throws MessageFormatException {
        if (v == null) throw new NullPointerException("no such value to read as float");
        if (v instanceof Float) return (Float) v;
        if (v instanceof String) return Float.parseFloat((String) v);
        throw cannot(v, "float");
    }

    static double toDouble(Object v) throws MessageFormatException {
        if (v == null) throw new NullPointerException("no such value to read as double");
        if (v instanceof Float || v instanceof Double) return ((Number) v).doubleValue();
        if (v instanceof String) return Double.parseDouble((String) v);
        throw cannot(v, "double");
    }

    static char toChar(Object v) throws MessageFormatException {
        if (v == null) throw new NullPointerException("no such value to read as char");
        if (v instanceof Character) return (Character) v;
        throw cannot(v, "char");
    }

    static String toStringValue(Object v) throws MessageFormatException {
        if (v == null) return null;
        if (v instanceof byte[]) throw cannot(v, "String");
        return v.toString();
    }

    static byte[] toBytes(Object v) throws MessageFormatException {
        if (v == null) return null;
        if (v instanceof byte[]) return (byte[]) v;
        throw cannot(v, "byte[]");
    }
}
