package io.herald.jms;

import static org.junit.Assert.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import javax.jms.Connection;
import javax.jms.MapMessage;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageFormatException;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;

import org.junit.Assume;
import org.junit.Test;

/**
 * Java's copy of the conversion table ({@link Conversions}) against
 * {@code tests/property-conversions.tsv}, the file the core's table is tested against too
 * (jni-bindings/tests/conversion_table.rs): cell by cell, on the values as written and on
 * the same values after a message carried them through the native side (vm:// and tcp://),
 * as properties and as MapMessage entries.
 */
public class ConversionTableTest extends JmsTestBase {
    /** One row of the table: a value as written, and what each getter should yield. */
    static final class Row {
        final String type;
        final String text;
        /** The value as Java holds it; null for a missing one. */
        final Object value;
        final String[] cells;

        Row(String type, String text, String[] cells) {
            this.type = type;
            this.text = text;
            this.value = parse(type, text);
            this.cells = cells;
        }

        boolean isPropertyType() {
            return !type.equals("char") && !type.equals("byte[]");
        }

        @Override public String toString() {
            return type + " " + text;
        }
    }

    static final String[] GETTERS = {"boolean", "byte", "short", "char", "int", "long", "float", "double", "String", "byte[]"};

    static List<Row> table() throws IOException {
        Path file = Paths.get(System.getProperty("herald.repo.root", ".."), "tests", "property-conversions.tsv");
        List<Row> rows = new ArrayList<>();
        boolean header = true;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.startsWith("#") || line.trim().isEmpty()) continue;
            String[] fields = line.split("\t", -1);
            if (header) {
                assertEquals("the header names the getters in order", Arrays.asList(GETTERS),
                        Arrays.asList(fields).subList(2, fields.length));
                header = false;
                continue;
            }
            assertEquals("a malformed row: " + line, 2 + GETTERS.length, fields.length);
            rows.add(new Row(fields[0], fields[1], Arrays.copyOfRange(fields, 2, fields.length)));
        }
        assertTrue("the table has rows", rows.size() >= 25);
        return rows;
    }

    static String unquote(String text) {
        assertTrue(text + " is a quoted String", text.length() >= 2 && text.startsWith("\"") && text.endsWith("\""));
        return text.substring(1, text.length() - 1);
    }

    static byte[] hex(String text) {
        byte[] b = new byte[text.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    static Object parse(String type, String text) {
        switch (type) {
            case "boolean": return Boolean.valueOf(text);
            case "byte": return Byte.valueOf(text);
            case "short": return Short.valueOf(text);
            case "char": return text.charAt(0);
            case "int": return Integer.valueOf(text);
            case "long": return Long.valueOf(text);
            case "float": return Float.valueOf(text);
            case "double": return Double.valueOf(text);
            case "String": return unquote(text);
            case "byte[]": return hex(text);
            case "missing": return null;
            default: throw new AssertionError("unknown value type " + type);
        }
    }

    interface Read {
        Object read(String getter) throws Exception;
    }

    /** What a getter did, compared with the cell; null when they agree. */
    static String check(String getter, String cell, Read read) {
        Object got;
        try {
            got = read.read(getter);
        } catch (Exception e) {
            boolean expected = cell.equals("MessageFormat") && e instanceof MessageFormatException
                    || cell.equals("NumberFormat") && e instanceof NumberFormatException
                    || cell.equals("NullPointer") && e instanceof NullPointerException;
            return expected ? null : "threw " + e + ", the table says " + cell;
        }
        boolean same;
        switch (cell) {
            case "MessageFormat": case "NumberFormat": case "NullPointer":
                same = false;
                break;
            default:
                switch (getter) {
                    case "boolean": same = got.equals(Boolean.valueOf(cell)); break;
                    case "byte": case "short": case "int": case "long":
                        same = ((Number) got).longValue() == Long.parseLong(cell);
                        break;
                    case "char": same = cell.length() == 1 && got.equals(cell.charAt(0)); break;
                    // Bit for bit: NaN equals NaN, and -0.0 is not 0.0.
                    case "float":
                        same = Float.floatToIntBits((Float) got) == Float.floatToIntBits(Float.parseFloat(cell));
                        break;
                    case "double":
                        same = Double.doubleToLongBits((Double) got) == Double.doubleToLongBits(Double.parseDouble(cell));
                        break;
                    case "String": same = cell.equals("null") ? got == null : unquote(cell).equals(got); break;
                    case "byte[]": same = cell.equals("null") ? got == null : Arrays.equals(hex(cell), (byte[]) got); break;
                    default: throw new AssertionError("unknown getter " + getter);
                }
        }
        if (same) return null;
        String shown = got instanceof byte[] ? Arrays.toString((byte[]) got) : String.valueOf(got);
        return "got " + shown + ", the table says " + cell;
    }

    /** Checks every cell of `rows` with `reader(row)`; fails listing every difference. */
    static void checkAll(List<Row> rows, String where, java.util.function.Function<Row, Read> reader) {
        List<String> differences = new ArrayList<>();
        for (Row row : rows) {
            Read read = reader.apply(row);
            for (int i = 0; i < GETTERS.length; i++) {
                String why = check(GETTERS[i], row.cells[i], read);
                if (why != null) differences.add(row + " read as " + GETTERS[i] + " (" + where + "): " + why);
            }
        }
        assertTrue("Java differs from tests/property-conversions.tsv:\n" + String.join("\n", differences), differences.isEmpty());
    }

    static Object convert(Object v, String getter) throws MessageFormatException {
        switch (getter) {
            case "boolean": return Conversions.toBoolean(v);
            case "byte": return Conversions.toByte(v);
            case "short": return Conversions.toShort(v);
            case "char": return Conversions.toChar(v);
            case "int": return Conversions.toInt(v);
            case "long": return Conversions.toLong(v);
            case "float": return Conversions.toFloat(v);
            case "double": return Conversions.toDouble(v);
            case "String": return Conversions.toStringValue(v);
            case "byte[]": return Conversions.toBytes(v);
            default: throw new AssertionError("unknown getter " + getter);
        }
    }

    @Test
    public void theJavaTableAgreesWithTheSharedFileCellByCell() throws Exception {
        Assume.assumeTrue("no message involved: once is enough", transport.equals("vm"));
        checkAll(table(), "as written", row -> getter -> convert(row.value, getter));
    }

    private Message roundTrip(java.util.function.Function<Session, Message> build) throws Exception {
        Connection c = connection();
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("conversion-table");
        MessageConsumer consumer = s.createConsumer(q);
        MessageProducer producer = s.createProducer(q);
        producer.send(build.apply(s));
        Message got = consumer.receive(5000);
        assertNotNull("the message came back", got);
        return got;
    }

    @Test
    public void mapEntriesThatCrossedTheNativeSideReadAsTheTableSays() throws Exception {
        List<Row> rows = table();
        MapMessage got = (MapMessage) roundTrip(s -> {
            try {
                MapMessage m = s.createMapMessage();
                for (int i = 0; i < rows.size(); i++) {
                    if (rows.get(i).value != null) m.setObject("r" + i, rows.get(i).value);
                }
                return m;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        checkAll(rows, "a MapMessage entry through " + transport + "://", row -> {
            String name = "r" + rows.indexOf(row);
            return getter -> {
                switch (getter) {
                    case "boolean": return got.getBoolean(name);
                    case "byte": return got.getByte(name);
                    case "short": return got.getShort(name);
                    case "char": return got.getChar(name);
                    case "int": return got.getInt(name);
                    case "long": return got.getLong(name);
                    case "float": return got.getFloat(name);
                    case "double": return got.getDouble(name);
                    case "String": return got.getString(name);
                    case "byte[]": return got.getBytes(name);
                    default: throw new AssertionError(getter);
                }
            };
        });
    }

    @Test
    public void propertiesThatCrossedTheNativeSideReadAsTheTableSays() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (Row row : table()) {
            if (row.isPropertyType()) rows.add(row);
        }
        Message got = roundTrip(s -> {
            try {
                Message m = s.createMessage();
                for (int i = 0; i < rows.size(); i++) {
                    if (rows.get(i).value != null) m.setObjectProperty("p" + i, rows.get(i).value);
                }
                return m;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        checkAll(rows, "a property through " + transport + "://", row -> {
            String name = "p" + rows.indexOf(row);
            return getter -> {
                switch (getter) {
                    case "boolean": return got.getBooleanProperty(name);
                    case "byte": return got.getByteProperty(name);
                    case "short": return got.getShortProperty(name);
                    case "int": return got.getIntProperty(name);
                    case "long": return got.getLongProperty(name);
                    case "float": return got.getFloatProperty(name);
                    case "double": return got.getDoubleProperty(name);
                    case "String": return got.getStringProperty(name);
                    // A property has no char or byte[] getter: the value it holds, through the table.
                    case "char": case "byte[]": return convert(got.getObjectProperty(name), getter);
                    default: throw new AssertionError(getter);
                }
            };
        });
    }
}
