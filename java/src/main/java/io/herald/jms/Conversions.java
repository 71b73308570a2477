package io.herald.jms;

import javax.jms.MessageFormatException;

/** The JMS property and map/stream value conversion table (JMS 2.0 section 3.5.4). */
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
