"""The few words an exported pack prints around the practices, in the pack's language."""

from __future__ import annotations

WORDS = {
    "en": {
        "contents": "Contents", "introduction": "Introduction", "trainer": "Trainer edition",
        "participant": "Participant edition", "notes": "Trainer notes", "exercises": "Exercises and discussion",
        "answers": "Answers", "sources": "Sources and licences", "city": "City", "organisation": "Organisation",
        "kind": "Kind", "hazards": "Hazards", "phases": "Phases", "version": "Version", "published": "Published",
        "licence": "Licence", "language": "Language", "address": "Stable address", "page": "Page",
        "untranslated": "Not available in this pack's language: the original is shown.",
        "made": "Made with Practice Exchange", "practices": "practices",
    },
    "id": {
        "contents": "Daftar isi", "introduction": "Pengantar", "trainer": "Edisi pelatih",
        "participant": "Edisi peserta", "notes": "Catatan pelatih", "exercises": "Latihan dan diskusi",
        "answers": "Jawaban", "sources": "Sumber dan lisensi", "city": "Kota", "organisation": "Organisasi",
        "kind": "Jenis", "hazards": "Bahaya", "phases": "Fase", "version": "Versi", "published": "Terbit",
        "licence": "Lisensi", "language": "Bahasa", "address": "Alamat tetap", "page": "Halaman",
        "untranslated": "Belum tersedia dalam bahasa paket ini: ditampilkan versi aslinya.",
        "made": "Dibuat dengan Practice Exchange", "practices": "praktik",
    },
    "ja": {
        "contents": "目次", "introduction": "はじめに", "trainer": "講師用", "participant": "受講者用",
        "notes": "講師メモ", "exercises": "演習・討議", "answers": "解答", "sources": "出典とライセンス",
        "city": "都市", "organisation": "組織", "kind": "種別", "hazards": "災害種別", "phases": "段階",
        "version": "版", "published": "公開日", "licence": "ライセンス", "language": "言語",
        "address": "恒久的な URL", "page": "ページ",
        "untranslated": "このパックの言語の翻訳がないため、原文を掲載しています。",
        "made": "Practice Exchange で作成", "practices": "件の事例",
    },
}


def words(language: str) -> dict[str, str]:
    """The export's words in ``language`` (English for a language without its own)."""
    return WORDS.get(language, WORDS["en"])
