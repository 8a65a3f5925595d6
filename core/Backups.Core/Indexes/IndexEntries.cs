using System.Text.Json;
using Backups.Core.Buffers;
using Backups.Core.Compression;
using Backups.Core.Repositories;
using static Backups.Core.Json.JsonScan;

namespace Backups.Core.Indexes;

/// <summary>
/// Reads an index file's entries straight from its JSON, without an object per blob: opening a repository, check
/// and prune read every index file of the repository and keep only compact entries. A compressed file is read as it
/// is decompressed, 64 KiB at a time, so its JSON (20 MiB for 150,000 blobs) is never held whole.
/// </summary>
internal static class IndexEntries
{
    private const int PieceSize = 64 * 1024;

    /// <param name="pack">Called for each pack; returns the number the pack's entries carry. A pack's blobs are given
    /// right after it (those listed before its id once it is known), before the next pack.</param>
    /// <param name="unknownType">Called with a blob type other than data and tree, whose entry is then left out
    /// (check reports it and goes on); without it, such a type is damage.</param>
    public static void Read(UnpackedFile file, Func<Id, int> pack, Action<PackedBlob> blob, Action<string>? unknownType = null)
    {
        var what = file.File.ToString();
        if (!file.IsCompressed)
        {
            Read(file.Stored.Span, what, pack, blob, unknownType);
            return;
        }
        var parser = new Parser(what, pack, blob, unknownType);
        using var zstd = new ZstdReader(file.Stored);
        var buffer = BufferPool.Large.Rent(PieceSize);
        try
        {
            var filled = 0;
            while (true)
            {
                // A piece of JSON longer than the buffer (a long string nobody reads) needs a larger one.
                if (filled == buffer.Length)
                {
                    var larger = BufferPool.Large.Rent(2 * buffer.Length);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    BufferPool.Large.Return(buffer);
                    buffer = larger;
                }
                int read;
                try
                {
                    read = zstd.Read(buffer.AsSpan(filled));
                }
                catch (InvalidDataException e)
                {
                    throw file.DoesNotDecompress(e);
                }
                filled += read;
                var used = parser.Read(buffer.AsSpan(0, filled), isFinal: read == 0);
                if (read == 0 || parser.Done) return;
                buffer.AsSpan(used, filled - used).CopyTo(buffer);
                filled -= used;
            }
        }
        finally
        {
            BufferPool.Large.Return(buffer);
        }
    }

    /// <summary>Reads the entries of a whole JSON text (<paramref name="file"/> names it in errors).</summary>
    public static void Read(ReadOnlySpan<byte> json, string file, Func<Id, int> pack, Action<PackedBlob> blob, Action<string>? unknownType = null) =>
        new Parser(file, pack, blob, unknownType).Read(json, isFinal: true);

    /// <summary>
    /// The JSON's shape as a state kept between pieces. It moves one step at a time (a token, a property with its
    /// value, a whole blob object); a step that runs past the end of a piece is undone and taken again, whole, with
    /// the next one, so every callback is made once, for complete entries only.
    /// </summary>
    private sealed class Parser(string file, Func<Id, int> pack, Action<PackedBlob> blob, Action<string>? unknownType)
    {
        private enum Place { Start, File, Packs, Pack, Blobs, End }

        private Place _place;
        private JsonReaderState _state = new(new JsonReaderOptions());
        // The pack being read: its number once its id is read, and the entries listed before that.
        private int? _number;
        private List<PackedBlob>? _early;

        /// <summary>Whether the file's closing brace was read (what follows it is not).</summary>
        public bool Done => _place == Place.End;

        /// <summary>Takes as many whole steps as <paramref name="json"/> holds; returns how many bytes they used (the
        /// rest comes again at the start of the next piece).</summary>
        public int Read(ReadOnlySpan<byte> json, bool isFinal)
        {
            try
            {
                var reader = new Utf8JsonReader(json, isFinal, _state);
                while (_place != Place.End)
                {
                    var before = reader;
                    if (Step(ref reader)) continue;
                    if (isFinal) throw Damaged(file);
                    reader = before;
                    break;
                }
                _state = reader.CurrentState;
                return (int)reader.BytesConsumed;
            }
            catch (JsonException e)
            {
                throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: not valid JSON ({e.Message.Split('.')[0]})", e);
            }
        }

        /// <summary>One step; false when the piece ends first.</summary>
        private bool Step(ref Utf8JsonReader reader)
        {
            if (!reader.Read()) return false;
            var token = reader.TokenType;
            switch (_place)
            {
                case Place.Start:
                    Is(token, JsonTokenType.StartObject);
                    _place = Place.File;
                    return true;
                case Place.File when token == JsonTokenType.EndObject:
                    _place = Place.End;
                    return true;
                case Place.File:
                    Is(token, JsonTokenType.PropertyName);
                    if (!reader.ValueTextEquals("packs"u8)) return reader.TrySkip();
                    return EnterArray(ref reader, Place.Packs);
                case Place.Packs when token == JsonTokenType.EndArray:
                    _place = Place.File;
                    return true;
                case Place.Packs:
                    Is(token, JsonTokenType.StartObject);
                    (_number, _early, _place) = (null, null, Place.Pack);
                    return true;
                case Place.Pack when token == JsonTokenType.EndObject:
                    if (_number is not { } known) throw Damaged(file);
                    foreach (var b in _early ?? []) blob(b with { Pack = known });
                    _place = Place.Packs;
                    return true;
                case Place.Pack:
                    Is(token, JsonTokenType.PropertyName);
                    if (reader.ValueTextEquals("blobs"u8)) return EnterArray(ref reader, Place.Blobs);
                    if (!reader.ValueTextEquals("id"u8)) return reader.TrySkip();
                    if (!reader.Read()) return false;
                    Is(reader.TokenType, JsonTokenType.String);
                    _number = pack(ReadId(ref reader, file));
                    return true;
                case Place.Blobs when token == JsonTokenType.EndArray:
                    _place = Place.Pack;
                    return true;
                case Place.Blobs:
                    Is(token, JsonTokenType.StartObject);
                    return ReadBlob(ref reader);
                default:
                    throw Damaged(file);
            }
        }

        /// <summary>Moves into the array of the property just read (a null one is as good as empty).</summary>
        private bool EnterArray(ref Utf8JsonReader reader, Place inside)
        {
            if (!reader.Read()) return false;
            if (reader.TokenType == JsonTokenType.Null) return true;
            Is(reader.TokenType, JsonTokenType.StartArray);
            _place = inside;
            return true;
        }

        /// <summary>A whole blob object, from just after its start; it is given only once its end is read.</summary>
        private bool ReadBlob(ref Utf8JsonReader reader)
        {
            Id? id = null;
            BlobType? type = null;
            string? unknown = null;
            uint offset = 0, length = 0, uncompressed = 0;
            while (true)
            {
                if (!reader.Read()) return false;
                if (reader.TokenType == JsonTokenType.EndObject) break;
                Is(reader.TokenType, JsonTokenType.PropertyName);
                if (reader.ValueTextEquals("id"u8))
                {
                    if (!reader.Read()) return false;
                    Is(reader.TokenType, JsonTokenType.String);
                    id = ReadId(ref reader, file);
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    if (!reader.Read()) return false;
                    Is(reader.TokenType, JsonTokenType.String);
                    if (reader.ValueTextEquals("data"u8)) type = BlobType.Data;
                    else if (reader.ValueTextEquals("tree"u8)) type = BlobType.Tree;
                    else if (unknownType == null)
                        throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: unknown blob type '{reader.GetString()}'");
                    else unknown = reader.GetString()!;
                }
                else if (reader.ValueTextEquals("offset"u8)) { if (!Number(ref reader, out offset)) return false; }
                else if (reader.ValueTextEquals("length"u8)) { if (!Number(ref reader, out length)) return false; }
                else if (reader.ValueTextEquals("uncompressed_length"u8)) { if (!Number(ref reader, out uncompressed)) return false; }
                else if (!reader.TrySkip()) return false;
            }
            if (unknown != null)
            {
                unknownType!(unknown);
                return true;
            }
            if (id is not { } i || type is not { } t) throw Damaged(file);
            var entry = new PackedBlob(i, t, _number ?? -1, offset, length, uncompressed);
            if (_number != null) blob(entry);
            else (_early ??= []).Add(entry);
            return true;
        }

        /// <summary>A length or offset (null reads as 0); false when the piece ends first.</summary>
        private bool Number(ref Utf8JsonReader reader, out uint n)
        {
            n = 0;
            if (!reader.Read()) return false;
            if (reader.TokenType == JsonTokenType.Null) return true;
            return reader.TokenType == JsonTokenType.Number && reader.TryGetUInt32(out n) ? true : throw Damaged(file);
        }

        private void Is(JsonTokenType token, JsonTokenType expected)
        {
            if (token != expected) throw Damaged(file);
        }
    }
}
